import sys


def main():
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    events = []
    for i in range(n):
        events.append((int(data[1 + 2 * i]), 1))
        events.append((int(data[2 + 2 * i]), -1))
    events.sort()  # at equal times the end (-1) comes before the start (+1)
    rooms = best = 0
    for _, delta in events:
        rooms += delta
        best = max(best, rooms)
    print(best)


main()
