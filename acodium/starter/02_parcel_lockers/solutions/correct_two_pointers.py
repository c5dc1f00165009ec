import sys


def main():
    data = sys.stdin.buffer.read().split()
    n, m = int(data[0]), int(data[1])
    sizes = sorted(map(int, data[2:2 + n]))
    caps = sorted(map(int, data[2 + n:2 + n + m]))
    # Smallest parcels first, each into the smallest locker that still fits it.
    stored = 0
    j = 0
    for size in sizes:
        while j < m and caps[j] < size:
            j += 1
        if j == m:
            break
        stored += 1
        j += 1
    print(stored)


main()
