// SPDX-License-Identifier: MIT
#include "cloudevents.h"
#include "attributes.h"
#include "jsonscan.h"

#include <QJsonObject>
#include <QRegularExpression>
#include <QSet>
#include <QStringDecoder>

namespace outbox {

namespace cloudevents::detail {

const QSet<QString> &reservedAttributeNames()
{
    static const QSet<QString> names = {
        QStringLiteral("id"),
        QStringLiteral("source"),
        QStringLiteral("specversion"),
        QStringLiteral("type"),
        QStringLiteral("datacontenttype"),
        QStringLiteral("dataschema"),
        QStringLiteral("subject"),
        QStringLiteral("time"),
        QStringLiteral("data"),
        QStringLiteral("data_base64"),
    };
    return names;
}

} // namespace cloudevents::detail

namespace {

// Header values in binary mode: space, '"', '%' and anything outside printable ASCII are percent-encoded (UTF-8).
QByteArray headerValue(const QString &value)
{
    const QByteArray utf8 = value.toUtf8();
    QByteArray out;
    out.reserve(utf8.size());
    for (char c : utf8) {
        const auto b = static_cast<unsigned char>(c);
        if (b >= 0x21 && b <= 0x7e && b != '"' && b != '%') {
            out.append(c);
        } else {
            out.append('%');
            out.append("0123456789ABCDEF"[b >> 4]);
            out.append("0123456789ABCDEF"[b & 0xf]);
        }
    }
    return out;
}

bool isUtf8(const QByteArray &bytes)
{
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    const QString ignored = decoder(bytes);
    return !decoder.hasError();
}

bool isTextContentType(const QString &contentType)
{
    const QString ct = contentType.section(QLatin1Char(';'), 0, 0).trimmed().toLower();
    return ct.startsWith(QLatin1String("text/")) || ct == QLatin1String("application/xml")
        || ct.endsWith(QLatin1String("+xml"));
}

QString extensionText(const QJsonValue &v)
{
    if (v.isBool())
        return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    if (v.isDouble()) {
        const double d = v.toDouble();
        if (d == double(qint64(d)))
            return QString::number(qint64(d));
        return QString::number(d, 'g', 17);
    }
    return v.toString();
}

} // namespace

QString contentModeName(ContentMode mode)
{
    switch (mode) {
    case ContentMode::Binary:
        return QStringLiteral("binary");
    case ContentMode::Structured:
        return QStringLiteral("structured");
    case ContentMode::Batch:
        return QStringLiteral("batch");
    }
    return {};
}

bool parseContentMode(const QString &name, ContentMode *mode)
{
    if (name == QLatin1String("binary"))
        *mode = ContentMode::Binary;
    else if (name == QLatin1String("structured"))
        *mode = ContentMode::Structured;
    else if (name == QLatin1String("batch") || name == QLatin1String("batched"))
        *mode = ContentMode::Batch;
    else
        return false;
    return true;
}

QByteArray HttpMessage::header(const QByteArray &name) const
{
    for (const auto &h : headers) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    }
    return {};
}

namespace cloudevents {

QString formatTime(const QDateTime &time)
{
    // Written by hand from the milliseconds (QDateTime::toString was a tenth of the cost of encoding an
    // event); years outside 0000-9999 go through Qt.
    const qint64 ms = time.toMSecsSinceEpoch();
    constexpr qint64 kMsPerDay = 86400000;
    constexpr qint64 kYear0 = -62167219200000; // 0000-01-01T00:00:00Z
    constexpr qint64 kYear10000 = 253402300800000;
    if (!time.isValid() || ms < kYear0 || ms >= kYear10000)
        return time.toUTC().toString(QStringLiteral("yyyy-MM-ddTHH:mm:ss.zzzZ"));
    const qint64 days = ms >= 0 ? ms / kMsPerDay : -((-ms + kMsPerDay - 1) / kMsPerDay);
    qint64 rest = ms - days * kMsPerDay;
    // Days since 1970-01-01 to a civil date (proleptic Gregorian), after Howard Hinnant's days_from_civil.
    const qint64 z = days + 719468;
    const qint64 era = (z >= 0 ? z : z - 146096) / 146097;
    const qint64 doe = z - era * 146097;
    const qint64 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const qint64 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const qint64 mp = (5 * doy + 2) / 153;
    const int day = int(doy - (153 * mp + 2) / 5 + 1);
    const int month = int(mp < 10 ? mp + 3 : mp - 9);
    const int year = int(yoe + era * 400 + (month <= 2 ? 1 : 0));
    const int hour = int(rest / 3600000);
    rest %= 3600000;
    const int minute = int(rest / 60000);
    rest %= 60000;
    const int second = int(rest / 1000);
    const int milli = int(rest % 1000);
    char buffer[] = "0000-00-00T00:00:00.000Z";
    const struct
    {
        int at, value, width;
    } fields[] = {
        {0, year, 4}, {5, month, 2}, {8, day, 2}, {11, hour, 2}, {14, minute, 2}, {17, second, 2}, {20, milli, 3}};
    for (auto [at, value, width] : fields) {
        for (int i = width - 1; i >= 0; --i, value /= 10)
            buffer[at + i] = char('0' + value % 10);
    }
    return QString::fromLatin1(buffer, 24);
}

bool isJsonContentType(const QString &contentType)
{
    if (contentType == QLatin1String("application/json")) // by far the most common; no copies for it
        return true;
    const QString ct = contentType.section(QLatin1Char(';'), 0, 0).trimmed().toLower();
    return ct == QLatin1String("application/json") || ct == QLatin1String("text/json")
        || ct.endsWith(QLatin1String("+json"));
}

QString extensionNameProblem(const QString &name)
{
    static const QRegularExpression valid(QStringLiteral("^[a-z0-9]+$"));
    if (!valid.match(name).hasMatch())
        return QStringLiteral("extension attribute name '%1' must be lower-case letters and digits only").arg(name);
    if (cloudevents::detail::reservedAttributeNames().contains(name))
        return QStringLiteral("'%1' is a CloudEvents core attribute, not an extension").arg(name);
    return {};
}

namespace {
// (The name is only read for the message: a QLatin1String is not turned into a QString for every attribute of
// every event relayed.)
template<typename Name>
QString controlCharacterIn(const Name &name, const QString &value)
{
    for (QChar c : value) {
        const char16_t u = c.unicode();
        if (u < 0x20 || (u >= 0x7f && u <= 0x9f))
            return QStringLiteral(
                "attribute '%1' contains a control character (U+%2), which CloudEvents does not allow")
                .arg(name)
                .arg(int(u), 4, 16, QLatin1Char('0'));
    }
    return {};
}
} // namespace

QString attributeTextProblem(const OutboxEvent &event)
{
    const std::pair<const char *, const QString *> attributes[] = {{"id", &event.id}, {"source", &event.source},
        {"type", &event.type}, {"subject", &event.subject}, {"datacontenttype", &event.contentType},
        {"ordering key", &event.orderingKey}};
    for (const auto &[name, value] : attributes) {
        if (QString why = controlCharacterIn(QLatin1String(name), *value); !why.isEmpty())
            return why;
        // Binary mode carries attributes as headers; receivers refuse heads over 8-16 KiB (431).
        if (value->size() > kMaxAttributeLength)
            return QStringLiteral("attribute '%1' is %2 characters long; at most %3 are allowed")
                .arg(QLatin1String(name))
                .arg(value->size())
                .arg(kMaxAttributeLength);
    }
    for (auto it = event.extensions.constBegin(); it != event.extensions.constEnd(); ++it) {
        if (it.value().isString()) {
            if (QString why = controlCharacterIn(it.key(), it.value().toString()); !why.isEmpty())
                return why;
            if (it.value().toString().size() > kMaxAttributeLength)
                return QStringLiteral("attribute '%1' is longer than %2 characters")
                    .arg(it.key())
                    .arg(kMaxAttributeLength);
        }
    }
    return {};
}

QString validate(const OutboxEvent &event, ContentMode mode)
{
    if (QString why = attributeTextProblem(event); !why.isEmpty())
        return why;
    if (event.id.isEmpty())
        return QStringLiteral("the event has no id");
    if (event.source.isEmpty())
        return QStringLiteral("the event has no source");
    if (event.type.isEmpty())
        return QStringLiteral("the event has no type");
    for (auto it = event.extensions.constBegin(); it != event.extensions.constEnd(); ++it) {
        const QString why = extensionNameProblem(it.key());
        if (!why.isEmpty())
            return why;
        if (it.value().isObject() || it.value().isArray() || it.value().isNull())
            return QStringLiteral("extension attribute '%1' must be a string, number or boolean").arg(it.key());
    }
    if (mode != ContentMode::Binary && !event.data.isEmpty()
        && (event.contentType.isEmpty() || isJsonContentType(event.contentType))) {
        QString why;
        if (!isValidJson(event.data, &why))
            return QStringLiteral("the data is declared as JSON but is not valid JSON (%1)").arg(why);
    }
    return {};
}

void appendJsonString(QByteArray &out, QStringView text)
{
    // JSON string escaping as RFC 8259 asks: quote, backslash and control characters; the rest as UTF-8.
    out.append('"');
    // Plain ASCII with nothing to escape (ids, types, sources, times) is copied as is.
    bool plain = true;
    for (QChar c : text) {
        const char16_t u = c.unicode();
        if (u < 0x20 || u >= 0x80 || u == '"' || u == '\\') {
            plain = false;
            break;
        }
    }
    if (plain) {
        const qsizetype at = out.size();
        out.resize(at + text.size());
        char *to = out.data() + at;
        for (QChar c : text)
            *to++ = char(c.unicode());
        out.append('"');
        return;
    }
    const QByteArray utf8 = text.toUtf8();
    for (char c : utf8) {
        const auto b = static_cast<unsigned char>(c);
        switch (c) {
        case '"':
            out.append("\\\"");
            break;
        case '\\':
            out.append("\\\\");
            break;
        case '\n':
            out.append("\\n");
            break;
        case '\r':
            out.append("\\r");
            break;
        case '\t':
            out.append("\\t");
            break;
        case '\b':
            out.append("\\b");
            break;
        case '\f':
            out.append("\\f");
            break;
        default:
            if (b < 0x20) {
                out.append("\\u00");
                out.append("0123456789abcdef"[b >> 4]);
                out.append("0123456789abcdef"[b & 0xf]);
            } else {
                out.append(c);
            }
        }
    }
    out.append('"');
}

static void appendMember(QByteArray &out, const char *name, QStringView value)
{
    out.append(",\"").append(name).append("\":");
    appendJsonString(out, value);
}

QByteArray structuredJson(const OutboxEvent &event)
{
    // Written directly rather than through QJsonObject: this runs for every event in structured and batched
    // mode. Attribute order: the required ones, the optional ones, extensions by name, then the data.
    QByteArray json;
    json.reserve(256 + event.data.size());
    json.append("{\"specversion\":\"1.0\"");
    appendMember(json, "id", event.id);
    appendMember(json, "source", event.source);
    appendMember(json, "type", event.type);
    if (event.createdAt.isValid())
        appendMember(json, "time", formatTime(event.createdAt));
    if (!event.subject.isEmpty())
        appendMember(json, "subject", event.subject);
    if (!event.contentType.isEmpty())
        appendMember(json, "datacontenttype", event.contentType);
    for (auto it = event.extensions.constBegin(); it != event.extensions.constEnd(); ++it) {
        json.append(',');
        appendJsonString(json, it.key());
        json.append(':');
        const QJsonValue v = it.value();
        if (v.isString())
            appendJsonString(json, v.toString());
        else if (v.isBool())
            json.append(v.toBool() ? "true" : "false");
        else if (v.isDouble())
            json.append(extensionText(v).toUtf8());
        else
            json.append("null");
    }
    if (!event.data.isEmpty()) {
        if (event.contentType.isEmpty() || isJsonContentType(event.contentType)) {
            json.append(",\"data\":").append(event.data);
        } else if (isTextContentType(event.contentType) && isUtf8(event.data)) {
            json.append(",\"data\":");
            appendJsonString(json, QString::fromUtf8(event.data));
        } else {
            json.append(",\"data_base64\":\"").append(event.data.toBase64()).append('"');
        }
    }
    json.append('}');
    return json;
}

QList<std::pair<QString, QString>> detail::binaryAttributes(const OutboxEvent &event)
{
    QList<std::pair<QString, QString>> a{{QStringLiteral("specversion"), QStringLiteral("1.0")},
        {QStringLiteral("id"), event.id}, {QStringLiteral("source"), event.source},
        {QStringLiteral("type"), event.type}};
    if (event.createdAt.isValid())
        a.append({QStringLiteral("time"), formatTime(event.createdAt)});
    if (!event.subject.isEmpty())
        a.append({QStringLiteral("subject"), event.subject});
    for (auto it = event.extensions.constBegin(); it != event.extensions.constEnd(); ++it)
        a.append({it.key(), extensionText(it.value())});
    return a;
}

HttpMessage encode(const OutboxEvent &event, ContentMode mode)
{
    HttpMessage m;
    if (mode == ContentMode::Batch)
        return encodeBatch({event});
    if (mode == ContentMode::Structured) {
        m.addHeader("content-type", "application/cloudevents+json; charset=utf-8");
        m.body = structuredJson(event);
        return m;
    }
    for (const auto &[name, value] : detail::binaryAttributes(event))
        m.addHeader("ce-" + name.toLatin1(), headerValue(value));
    if (!event.contentType.isEmpty())
        m.addHeader("content-type", event.contentType.toUtf8());
    m.body = event.data;
    return m;
}

HttpMessage encodeBatch(const QList<OutboxEvent> &events)
{
    HttpMessage m;
    m.addHeader("content-type", "application/cloudevents-batch+json; charset=utf-8");
    m.body.append('[');
    for (qsizetype i = 0; i < events.size(); ++i) {
        if (i > 0)
            m.body.append(',');
        m.body.append(structuredJson(events.at(i)));
    }
    m.body.append(']');
    return m;
}

} // namespace cloudevents
} // namespace outbox
