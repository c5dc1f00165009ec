# Forgets that when k is even, residue k/2 pairs with itself.
from collections import Counter

n, k = map(int, input().split())
count = Counter(x % k for x in map(int, input().split()))
pairs = count[0] * (count[0] - 1) // 2
for r in range(1, (k + 1) // 2):
    pairs += count[r] * count[k - r]
print(pairs)
