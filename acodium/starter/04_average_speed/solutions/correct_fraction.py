# Exact arithmetic: the time is a sum of fractions, rounded once at the end.
from fractions import Fraction
from math import lcm

n = int(input())
legs = [tuple(map(int, input().split())) for _ in range(n)]
common = 1
for _, speed in legs:
    common = lcm(common, speed)
hours = Fraction(sum(length * (common // speed) for length, speed in legs), common)
print("%.9f" % (sum(length for length, _ in legs) / hours))
