# Right formula, but two decimals are not enough for an error of 1e-5.
n = int(input())
distance = 0
hours = 0.0
for _ in range(n):
    length, speed = map(int, input().split())
    distance += length
    hours += length / speed
print(f"{distance / hours:.2f}")
