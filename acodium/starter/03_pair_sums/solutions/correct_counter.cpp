#include <cstdio>
#include <unordered_map>

int main() {
    long long n, k;
    if (std::scanf("%lld %lld", &n, &k) != 2) return 1;
    std::unordered_map<long long, long long> seen;
    seen.reserve(n * 2);
    long long pairs = 0;
    for (long long i = 0; i < n; ++i) {
        long long x;
        std::scanf("%lld", &x);
        long long r = x % k;
        auto it = seen.find((k - r) % k);
        if (it != seen.end()) pairs += it->second;
        ++seen[r];
    }
    std::printf("%lld\n", pairs);
    return 0;
}
