#pragma once
// UTF-8 validation of whole messages, with a fast path for ASCII (Vantage events are ASCII but for names).
// Thread safety: a pure function.

#include <string>
#include <string_view>

namespace ovalstream::core {

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no
// sequence cut short at the end. The same bytes RapidJSON's UTF8<>::Validate accepts.
bool is_valid_utf8(std::string_view text) noexcept;

// `text` with every byte that does not start a valid sequence replaced by U+FFFD, so that bytes from a
// request can be quoted in JSON or a log without breaking it. Valid text comes back unchanged.
std::string to_valid_utf8(std::string_view text);

}  // namespace ovalstream::core
