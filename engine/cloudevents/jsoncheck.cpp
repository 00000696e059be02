// SPDX-License-Identifier: MIT
// The JSON syntax checks of cloudevents.h and jsonscan.h: a strict check that allocates nothing, and Qt's
// parser for what it cannot settle.
#include "cloudevents.h"
#include "jsonscan.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <cstring>

namespace outbox::cloudevents {

namespace {
// A strict RFC 8259 syntax check that allocates nothing. It answers "valid" only for text that Qt's parser
// accepts too, and "not sure" for anything else, including what Qt treats specially: numbers with an
// exponent or longer than 40 characters (Qt refuses ones that overflow), escapes of surrogates, raw control
// characters (Qt accepts them), non-characters, and nesting deeper than 256.
class QuickJson
{
public:
    QuickJson(const char *begin, const char *end) : p(begin), e(end) { }

    bool document()
    {
        if (!value(0))
            return false;
        space();
        return p == e;
    }

private:
    void space()
    {
        while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
            ++p;
    }
    bool literal(const char *word, qsizetype length)
    {
        if (e - p < length || memcmp(p, word, size_t(length)) != 0)
            return false;
        p += length;
        return true;
    }
    static bool isDigit(char c) { return c >= '0' && c <= '9'; }
    bool number()
    {
        const char *start = p;
        if (p < e && *p == '-')
            ++p;
        if (p < e && *p == '0')
            ++p;
        else if (p < e && *p >= '1' && *p <= '9')
            while (p < e && isDigit(*p))
                ++p;
        else
            return false;
        if (p < e && *p == '.') {
            ++p;
            if (p == e || !isDigit(*p))
                return false;
            while (p < e && isDigit(*p))
                ++p;
        }
        if (p < e && (*p == 'e' || *p == 'E'))
            return false;
        return p - start <= 40;
    }
    bool string()
    {
        ++p; // the opening quote
        while (p < e) {
            const auto c = static_cast<unsigned char>(*p);
            if (c == '"') {
                ++p;
                return true;
            }
            if (c < 0x20)
                return false;
            if (c == '\\') {
                if (++p == e)
                    return false;
                const char x = *p++;
                if (x == 'u') {
                    if (e - p < 4)
                        return false;
                    char32_t u = 0;
                    for (int i = 0; i < 4; ++i, ++p) {
                        const char h = *p;
                        u <<= 4;
                        if (isDigit(h))
                            u |= char32_t(h - '0');
                        else if ((h | 0x20) >= 'a' && (h | 0x20) <= 'f')
                            u |= char32_t((h | 0x20) - 'a' + 10);
                        else
                            return false;
                    }
                    if (u >= 0xd800 && u <= 0xdfff)
                        return false;
                } else if (!memchr("\"\\/bfnrt", x, 8)) {
                    return false;
                }
                continue;
            }
            if (c < 0x80) {
                ++p;
                continue;
            }
            // UTF-8: well-formed, shortest form, no surrogates, no non-characters.
            int extra;
            char32_t u;
            if (c >= 0xc2 && c <= 0xdf) {
                extra = 1;
                u = c & 0x1f;
            } else if (c >= 0xe0 && c <= 0xef) {
                extra = 2;
                u = c & 0x0f;
            } else if (c >= 0xf0 && c <= 0xf4) {
                extra = 3;
                u = c & 0x07;
            } else {
                return false;
            }
            if (e - p <= extra)
                return false;
            for (int i = 1; i <= extra; ++i) {
                const auto b = static_cast<unsigned char>(p[i]);
                if ((b & 0xc0) != 0x80)
                    return false;
                u = (u << 6) | (b & 0x3f);
            }
            const char32_t least[] = {0, 0x80, 0x800, 0x10000};
            if (u < least[extra] || u > 0x10ffff || (u >= 0xd800 && u <= 0xdfff) || (u >= 0xfdd0 && u <= 0xfdef)
                || (u & 0xfffe) == 0xfffe)
                return false;
            p += extra + 1;
        }
        return false;
    }
    bool value(int depth)
    {
        space();
        if (p == e)
            return false;
        switch (*p) {
        case '"':
            return string();
        case 't':
            return literal("true", 4);
        case 'f':
            return literal("false", 5);
        case 'n':
            return literal("null", 4);
        case '[':
        case '{': {
            if (depth >= 256)
                return false;
            const bool object = *p == '{';
            const char close = object ? '}' : ']';
            ++p;
            space();
            if (p < e && *p == close) {
                ++p;
                return true;
            }
            for (;;) {
                if (object) {
                    space();
                    if (p == e || *p != '"' || !string())
                        return false;
                    space();
                    if (p == e || *p != ':')
                        return false;
                    ++p;
                }
                if (!value(depth + 1))
                    return false;
                space();
                if (p == e)
                    return false;
                if (*p == close) {
                    ++p;
                    return true;
                }
                if (*p != ',')
                    return false;
                ++p;
            }
        }
        default:
            return number();
        }
    }

    const char *p;
    const char *e;
};
} // namespace

bool isCertainlyValidJson(QByteArrayView bytes)
{
    return QuickJson(bytes.data(), bytes.data() + bytes.size()).document();
}

bool isValidJson(const QByteArray &bytes, QString *why)
{
    // The quick check settles the common case without building a document; Qt's parser decides the rest
    // and says what is wrong.
    if (isCertainlyValidJson(bytes))
        return true;
    // QJsonDocument reads only objects and arrays at the top: wrap the value so any JSON value is accepted.
    QJsonParseError error;
    QByteArray wrapped;
    wrapped.reserve(bytes.size() + 2);
    wrapped.append('[').append(bytes).append(']');
    const QJsonDocument doc = QJsonDocument::fromJson(wrapped, &error);
    if (error.error != QJsonParseError::NoError) {
        if (why)
            *why = QStringLiteral("%1 at offset %2").arg(error.errorString()).arg(qMax(0, error.offset - 1));
        return false;
    }
    if (doc.array().size() != 1) {
        if (why)
            *why = bytes.trimmed().isEmpty() ? QStringLiteral("no JSON value")
                                             : QStringLiteral("more than one JSON value");
        return false;
    }
    return true;
}

} // namespace outbox::cloudevents
