import sys
from collections import Counter


def main():
    data = sys.stdin.buffer.read().split()
    n, k = int(data[0]), int(data[1])
    seen = Counter()
    pairs = 0
    for x in map(int, data[2:2 + n]):
        r = x % k
        pairs += seen[(k - r) % k]
        seen[r] += 1
    print(pairs)


main()
