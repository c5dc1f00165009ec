import sys


def main():
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    a = list(map(int, data[1:1 + n]))
    total = sum(a)
    left = 0
    best = None
    for i in range(n - 1):
        left += a[i]
        diff = abs(total - 2 * left)
        if best is None or diff < best:
            best = diff
    print(best)


main()
