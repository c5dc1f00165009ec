"""Checker (testlib's protocol) of Codeforces 576 A, Vasya and Petya's Game: the answer's (minimum)
number of questions, each in 1..n, whose yes/no answers tell every x in 1..n apart."""
import sys


def verdict(code, message=""):
    print(message, file=sys.stderr)
    sys.exit(code)


def integers(tokens):
    try:
        return [int(t) for t in tokens]
    except ValueError:
        verdict(2, "a token is not an integer")


n = int(open(sys.argv[1]).read().split()[0])
best = int(open(sys.argv[3]).read().split()[0])
out = integers(open(sys.argv[2]).read().split())
if not out or len(out) != out[0] + 1:
    verdict(1, "the count of questions does not match the questions")
k, questions = out[0], out[1:]
if k != best:
    verdict(1, f"{k} questions, the minimum is {best}")
if any(not 1 <= y <= n for y in questions):
    verdict(1, "a question is not in 1..n")
answers = {tuple(x % y == 0 for y in questions) for x in range(1, n + 1)}
if len(answers) != n:
    verdict(1, f"the answers tell only {len(answers)} of the {n} numbers apart")
verdict(0)
