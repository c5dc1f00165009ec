// Checker (testlib's protocol: input output answer; exit 0 ok, 1 wrong, 2 presentation) for
// answers of numbers within 1e-6 absolute or relative error (Codeforces' usual float rule, as
// testlib's doubleCompare), the same count of tokens; a token that is no number must be equal.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

static int verdict(int code, const std::string& message) {
    if (!message.empty()) std::fprintf(stderr, "%s\n", message.c_str());
    return code;
}

static bool number(const std::string& token, double& value) {
    char* end = nullptr;
    value = std::strtod(token.c_str(), &end);
    return !token.empty() && end == token.c_str() + token.size();
}

int main(int argc, char** argv) {
    if (argc < 4) return verdict(3, "usage: checker input output answer");
    const double eps = 1e-6;
    std::ifstream out(argv[2]), ans(argv[3]);
    std::string got, want;
    for (int i = 1;; i++) {
        bool more_ans = static_cast<bool>(ans >> want), more_out = static_cast<bool>(out >> got);
        if (!more_ans && !more_out) return verdict(0, "");
        if (!more_ans) return verdict(1, "extra tokens in the output");
        if (!more_out) return verdict(1, "the output ends at token " + std::to_string(i));
        double g, w;
        if (got == want) continue;
        if (!number(want, w) || !number(got, g))
            return verdict(1, "token " + std::to_string(i) + ": expected " + want + ", found " + got);
        if (std::isnan(w) || std::isnan(g) || std::fabs(g - w) > eps * std::fmax(1.0, std::fabs(w)) + 1e-15)
            return verdict(1, "token " + std::to_string(i) + ": expected " + want + ", found " + got);
    }
}
