# Count each residue, then pair residue r with k - r (r = 0 and r = k/2 pair with themselves).
from collections import Counter

n, k = map(int, input().split())
count = Counter(x % k for x in map(int, input().split()))
pairs = 0
for r, c in count.items():
    s = (k - r) % k
    if r == s:
        pairs += c * (c - 1) // 2
    elif r < s:
        pairs += c * count.get(s, 0)
print(pairs)
