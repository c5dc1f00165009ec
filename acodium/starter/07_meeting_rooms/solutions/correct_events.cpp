#include <algorithm>
#include <cstdio>
#include <utility>
#include <vector>

int main() {
    int n;
    if (std::scanf("%d", &n) != 1) return 1;
    std::vector<std::pair<long long, int>> events;
    events.reserve(2 * n);
    for (int i = 0; i < n; ++i) {
        long long s, e;
        std::scanf("%lld %lld", &s, &e);
        events.push_back({s, 1});
        events.push_back({e, -1});
    }
    std::sort(events.begin(), events.end());
    int rooms = 0, best = 0;
    for (const auto& ev : events) {
        rooms += ev.second;
        best = std::max(best, rooms);
    }
    std::printf("%d\n", best);
    return 0;
}
