# Python integers never overflow, so the modulo "is not needed": it is.
t = int(input())
for _ in range(t):
    n = int(input())
    f = [1, 1, 2]
    for i in range(3, n + 1):
        f.append(f[i - 1] + f[i - 3])
    print(f[n])
