// Fuzzes the TOML configuration parser (with an environment that overrides a few keys) and the
// printer of the result, which must redact every secret it was given and read back as the same
// configuration.
#include "app/config.hpp"

#include "fuzz/common.hpp"

#include <cstdlib>
#include <string>

namespace app = companion::app;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = companion::fuzz::as_text(data, size);
    static const app::env_lookup no_env;
    if (auto cfg = app::parse_config(text, no_env, "fuzz"); cfg)
        (void)app::print_config(*cfg);

    static const app::env_lookup env{{"TELEGRAM_BOT_TOKEN", "123:fuzz-secret-token"},
                                     {"OPENAI_API_KEY", "sk-fuzz-secret"},
                                     {"GEMINI_API_KEY", "gm-fuzz-secret"}};
    if (auto cfg = app::parse_config(text, env, "fuzz"); cfg) {
        const std::string printed = app::print_config(*cfg);
        for (const auto& [name, secret] : env)
            if (text.find(secret) == std::string_view::npos && printed.find(secret) != std::string::npos)
                std::abort(); // a secret from the environment reached --print-config
        // The printout is a configuration file that reads back as the same configuration.
        auto reread = app::parse_config(printed, env, "printed");
        if (!reread || app::print_config(*reread) != printed)
            std::abort();
    }
    (void)app::parse_duration(text);
    return 0;
}
