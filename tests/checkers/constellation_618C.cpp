// Checker (testlib's protocol: input output answer; exit 0 ok, 1 wrong, 2 presentation) of
// Codeforces 618 C, Constellation: three distinct stars of 1..n forming a triangle of positive
// area with every other star strictly outside it. The answer file is not needed.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

static int verdict(int code, const std::string& message) {
    if (!message.empty()) std::fprintf(stderr, "%s\n", message.c_str());
    return code;
}

typedef long long ll;
typedef __int128 wide;

static wide cross(ll ax, ll ay, ll bx, ll by, ll cx, ll cy) {
    return (wide)(bx - ax) * (cy - ay) - (wide)(by - ay) * (cx - ax);
}

int main(int argc, char** argv) {
    if (argc < 4) return verdict(3, "usage: checker input output answer");
    std::ifstream in(argv[1]), out(argv[2]);
    int n;
    in >> n;
    std::vector<ll> x(n + 1), y(n + 1);
    for (int i = 1; i <= n; i++) in >> x[i] >> y[i];
    long long idx[3];
    for (int j = 0; j < 3; j++)
        if (!(out >> idx[j])) return verdict(2, "expected three integers");
    std::string extra;
    if (out >> extra) return verdict(1, "extra tokens after three indices");
    for (int j = 0; j < 3; j++)
        if (idx[j] < 1 || idx[j] > n) return verdict(1, "an index is not in 1..n");
    if (idx[0] == idx[1] || idx[1] == idx[2] || idx[0] == idx[2]) return verdict(1, "the stars are not distinct");
    int a = idx[0], b = idx[1], c = idx[2];
    wide area = cross(x[a], y[a], x[b], y[b], x[c], y[c]);
    if (area == 0) return verdict(1, "the triangle has zero area");
    if (area < 0) { int t = b; b = c; c = t; }  // counter-clockwise from here on
    for (int p = 1; p <= n; p++) {
        if (p == a || p == b || p == c) continue;
        if (cross(x[a], y[a], x[b], y[b], x[p], y[p]) >= 0 && cross(x[b], y[b], x[c], y[c], x[p], y[p]) >= 0 &&
            cross(x[c], y[c], x[a], y[a], x[p], y[p]) >= 0)
            return verdict(1, "star " + std::to_string(p) + " is not strictly outside the triangle");
    }
    return verdict(0, "");
}
