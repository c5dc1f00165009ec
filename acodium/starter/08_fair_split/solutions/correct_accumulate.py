# The first friend's share over every cut, from itertools.accumulate.
from itertools import accumulate

n = int(input())
a = list(map(int, input().split()))
total = sum(a)
print(min(abs(total - 2 * left) for left in accumulate(a[:-1])))
