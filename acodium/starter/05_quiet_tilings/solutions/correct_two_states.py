import sys

MOD = 10**9 + 7


def main():
    data = sys.stdin.buffer.read().split()
    queries = list(map(int, data[1:1 + int(data[0])]))
    top = max(queries)
    # ends1[i]: pavings of length i that are empty or end with a short tile;
    # ends2[i]: pavings of length i that end with a long tile.
    ends1 = [0] * (top + 1)
    ends2 = [0] * (top + 1)
    ends1[0] = 1
    for i in range(1, top + 1):
        ends1[i] = (ends1[i - 1] + ends2[i - 1]) % MOD
        if i >= 2:
            ends2[i] = ends1[i - 2]
    sys.stdout.write("\n".join(str((ends1[n] + ends2[n]) % MOD) for n in queries) + "\n")


main()
