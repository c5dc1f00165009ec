import sys


def main():
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    distance = 0
    hours = 0.0
    for i in range(n):
        length, speed = int(data[1 + 2 * i]), int(data[2 + 2 * i])
        distance += length
        hours += length / speed
    print(f"{distance / hours:.9f}")


main()
