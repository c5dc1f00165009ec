# The longest calm stretch lies between two consecutive "breaks" (places where
# neighbours differ by more than d); the log's ends act as breaks too.
n, d = map(int, input().split())
a = list(map(int, input().split()))
breaks = [0] + [i for i in range(1, n) if abs(a[i] - a[i - 1]) > d] + [n]
print(max(breaks[k + 1] - breaks[k] for k in range(len(breaks) - 1)))
