import sys


def main():
    data = sys.stdin.buffer.read().split()
    n, d = int(data[0]), int(data[1])
    a = list(map(int, data[2:2 + n]))
    best = run = 1
    for i in range(1, n):
        if abs(a[i] - a[i - 1]) <= d:
            run += 1
        else:
            run = 1
        best = max(best, run)
    print(best)


main()
