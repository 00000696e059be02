// SPDX-License-Identifier: MIT
// The receiving side of the CloudEvents HTTP binding: a request (binary, structured or batched) read back into
// events, with each attribute checked; and the JSON scanning it rests on, which keeps a member's value byte
// for byte.
#include "attributes.h"
#include "cloudevents.h"
#include "jsonscan.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSet>

namespace outbox {

namespace {

QString fromHeaderValue(const QByteArray &value)
{
    return QString::fromUtf8(QByteArray::fromPercentEncoding(value.trimmed()));
}

bool isRfc3339(const QString &t)
{
    static const QRegularExpression re(
        QStringLiteral(R"(^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$)"));
    return re.match(t).hasMatch() && QDateTime::fromString(t.toUpper(), Qt::ISODateWithMs).isValid();
}

void checkAttributes(ReceivedEvent &r)
{
    if (r.specVersion.isEmpty())
        r.problems.append(QStringLiteral("missing required attribute 'specversion'"));
    else if (r.specVersion != QLatin1String("1.0"))
        r.problems.append(QStringLiteral("unsupported specversion '%1' (expected 1.0)").arg(r.specVersion));
    if (r.event.id.isEmpty())
        r.problems.append(QStringLiteral("missing required attribute 'id'"));
    if (r.event.source.isEmpty())
        r.problems.append(QStringLiteral("missing required attribute 'source'"));
    if (r.event.type.isEmpty())
        r.problems.append(QStringLiteral("missing required attribute 'type'"));
    if (!r.time.isEmpty()) {
        if (isRfc3339(r.time))
            r.event.createdAt = QDateTime::fromString(r.time.toUpper(), Qt::ISODateWithMs).toUTC();
        else
            r.problems.append(QStringLiteral("attribute 'time' is not an RFC 3339 timestamp: '%1'").arg(r.time));
    }
    for (auto it = r.event.extensions.constBegin(); it != r.event.extensions.constEnd(); ++it) {
        const QString why = cloudevents::extensionNameProblem(it.key());
        if (!why.isEmpty())
            r.problems.append(why);
    }
    if (const QString why = cloudevents::attributeTextProblem(r.event); !why.isEmpty())
        r.problems.append(why);
}

// A small scanner over JSON text that finds where values start and end, so the receiver can keep the
// exact bytes of "data" (member order, number spelling) instead of a re-serialised copy.
qsizetype skipSpace(const QByteArray &s, qsizetype pos)
{
    while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r'))
        ++pos;
    return pos;
}

qsizetype skipValue(const QByteArray &s, qsizetype pos, int depth = 0)
{
    pos = skipSpace(s, pos);
    if (pos >= s.size() || depth > 512)
        return -1;
    const char c = s[pos];
    if (c == '"') {
        for (++pos; pos < s.size(); ++pos) {
            if (s[pos] == '\\')
                ++pos;
            else if (s[pos] == '"')
                return pos + 1;
        }
        return -1;
    }
    if (c == '{' || c == '[') {
        const char close = c == '{' ? '}' : ']';
        pos = skipSpace(s, pos + 1);
        if (pos < s.size() && s[pos] == close)
            return pos + 1;
        for (;;) {
            if (c == '{') {
                pos = skipValue(s, pos, depth + 1); // the member name
                if (pos < 0)
                    return -1;
                pos = skipSpace(s, pos);
                if (pos >= s.size() || s[pos] != ':')
                    return -1;
                ++pos;
            }
            pos = skipValue(s, pos, depth + 1);
            if (pos < 0)
                return -1;
            pos = skipSpace(s, pos);
            if (pos >= s.size())
                return -1;
            if (s[pos] == close)
                return pos + 1;
            if (s[pos] != ',')
                return -1;
            ++pos;
        }
    }
    const qsizetype start = pos;
    while (pos < s.size() && !QByteArrayView(",}] \t\r\n").contains(s[pos]))
        ++pos;
    return pos > start ? pos : -1; // no value here (a stray '}' or ']'): malformed
}

// The raw bytes of the top-level member `name` of the JSON object in s[begin, end), or a null array.
QByteArray rawMember(const QByteArray &s, qsizetype begin, const QByteArray &name)
{
    const QByteArray quoted = '"' + name + '"';
    for (const cloudevents::JsonMember &m : cloudevents::jsonObjectMembers(s, begin)) {
        if (m.name == quoted)
            return s.mid(m.valueBegin, m.valueEnd - m.valueBegin);
    }
    return {};
}

// Where each element of the top-level JSON array in s begins.
QList<qsizetype> arrayElements(const QByteArray &s)
{
    QList<qsizetype> starts;
    qsizetype pos = skipSpace(s, 0);
    if (pos >= s.size() || s[pos] != '[')
        return starts;
    pos = skipSpace(s, pos + 1);
    while (pos < s.size() && s[pos] != ']') {
        starts.append(pos);
        pos = skipValue(s, pos);
        if (pos < 0)
            return {};
        pos = skipSpace(s, pos);
        if (pos < s.size() && s[pos] == ',')
            pos = skipSpace(s, pos + 1);
        else if (pos < s.size() && s[pos] != ']')
            return {}; // elements must be separated by commas
    }
    return starts;
}

ReceivedEvent fromStructured(const QJsonObject &o, const QByteArray &raw = {}, qsizetype rawBegin = 0)
{
    ReceivedEvent r;
    r.specVersion = o.value(QLatin1String("specversion")).toString();
    r.event.id = o.value(QLatin1String("id")).toString();
    r.event.source = o.value(QLatin1String("source")).toString();
    r.event.type = o.value(QLatin1String("type")).toString();
    r.event.subject = o.value(QLatin1String("subject")).toString();
    r.event.contentType = o.value(QLatin1String("datacontenttype")).toString();
    r.time = o.value(QLatin1String("time")).toString();
    for (auto it = o.constBegin(); it != o.constEnd(); ++it) {
        if (!cloudevents::detail::reservedAttributeNames().contains(it.key()))
            r.event.extensions.insert(it.key(), it.value());
    }
    for (const char *required : {"specversion", "id", "source", "type"}) {
        const QJsonValue v = o.value(QLatin1String(required));
        if (!v.isUndefined() && !v.isString())
            r.problems.append(QStringLiteral("attribute '%1' must be a string").arg(QLatin1String(required)));
    }
    if (o.contains(QLatin1String("data_base64"))) {
        if (o.contains(QLatin1String("data")))
            r.problems.append(QStringLiteral("both 'data' and 'data_base64' are present"));
        const auto decoded = QByteArray::fromBase64Encoding(
            o.value(QLatin1String("data_base64")).toString().toLatin1(), QByteArray::AbortOnBase64DecodingErrors);
        if (!decoded)
            r.problems.append(QStringLiteral("'data_base64' is not valid base64"));
        r.event.data = decoded.decoded;
    } else if (o.contains(QLatin1String("data"))) {
        const QJsonValue d = o.value(QLatin1String("data"));
        const bool json = r.event.contentType.isEmpty() || cloudevents::isJsonContentType(r.event.contentType);
        if (d.isString() && !json) {
            r.event.data = d.toString().toUtf8();
        } else {
            // The bytes as sent; failing that, the value re-serialised (Qt keeps 64-bit integers exact).
            r.event.data = raw.isEmpty() ? QByteArray() : rawMember(raw, rawBegin, "data");
            if (r.event.data.isNull()) {
                const QByteArray text = QJsonDocument(QJsonArray{d}).toJson(QJsonDocument::Compact);
                r.event.data = text.mid(1, text.size() - 2);
            }
        }
    }
    checkAttributes(r);
    return r;
}

} // namespace

namespace cloudevents {

QList<JsonMember> jsonObjectMembers(const QByteArray &s, qsizetype begin)
{
    QList<JsonMember> members;
    qsizetype pos = skipSpace(s, begin);
    if (pos >= s.size() || s[pos] != '{')
        return {};
    pos = skipSpace(s, pos + 1);
    while (pos < s.size() && s[pos] != '}') {
        const qsizetype keyEnd = skipValue(s, pos);
        if (keyEnd < 0 || s[pos] != '"')
            return {};
        JsonMember m;
        m.name = QByteArrayView(s).sliced(pos, keyEnd - pos);
        pos = skipSpace(s, keyEnd);
        if (pos >= s.size() || s[pos] != ':')
            return {};
        m.valueBegin = skipSpace(s, pos + 1);
        m.valueEnd = skipValue(s, m.valueBegin);
        if (m.valueEnd < 0)
            return {};
        members.append(m);
        pos = skipSpace(s, m.valueEnd);
        if (pos < s.size() && s[pos] == ',')
            pos = skipSpace(s, pos + 1);
        else if (pos < s.size() && s[pos] != '}')
            return {}; // members must be separated by commas
    }
    return members;
}

qsizetype countBatchElements(const QByteArray &body)
{
    return arrayElements(body).size();
}

// (Long: the three modes of the binding one after another, each short.)
DecodedRequest decode(const HttpMessage &request)
{
    DecodedRequest out;
    const QString contentType = QString::fromUtf8(request.header("content-type"));
    const QString mediaType = contentType.section(QLatin1Char(';'), 0, 0).trimmed().toLower();

    if (mediaType == QLatin1String("application/cloudevents-batch+json")) {
        out.mode = ContentMode::Batch;
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(request.body, &error);
        if (error.error != QJsonParseError::NoError || !doc.isArray()) {
            out.error = error.error != QJsonParseError::NoError
                ? QStringLiteral("batch body is not valid JSON: %1").arg(error.errorString())
                : QStringLiteral("batch body is not a JSON array");
            return out;
        }
        const QJsonArray array = doc.array();
        const QList<qsizetype> starts = arrayElements(request.body);
        for (qsizetype i = 0; i < array.size(); ++i) {
            const QJsonValue v = array.at(i);
            if (!v.isObject()) {
                ReceivedEvent bad;
                bad.problems.append(QStringLiteral("batch element is not a JSON object"));
                out.events.append(bad);
                continue;
            }
            out.events.append(starts.size() == array.size() ? fromStructured(v.toObject(), request.body, starts.at(i))
                                                            : fromStructured(v.toObject()));
        }
        return out;
    }
    if (mediaType.startsWith(QLatin1String("application/cloudevents"))) {
        out.mode = ContentMode::Structured;
        if (mediaType != QLatin1String("application/cloudevents+json")) {
            out.error = QStringLiteral("unsupported structured event format '%1'").arg(mediaType);
            return out;
        }
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(request.body, &error);
        if (error.error != QJsonParseError::NoError || !doc.isObject()) {
            out.error = error.error != QJsonParseError::NoError
                ? QStringLiteral("structured body is not valid JSON: %1").arg(error.errorString())
                : QStringLiteral("structured body is not a JSON object");
            return out;
        }
        out.events.append(fromStructured(doc.object(), request.body, 0));
        return out;
    }
    if (request.header("ce-specversion").isNull()) {
        out.error = QStringLiteral(
            "not a CloudEvent: no ce-specversion header, and content type '%1' is not a CloudEvents format")
                        .arg(contentType.isEmpty() ? QStringLiteral("(none)") : contentType);
        return out;
    }
    out.mode = ContentMode::Binary;
    ReceivedEvent r;
    for (const auto &h : request.headers) {
        const QByteArray name = h.first.toLower();
        if (!name.startsWith("ce-"))
            continue;
        const QString attr = QString::fromLatin1(name.mid(3));
        const QString value = fromHeaderValue(h.second);
        if (attr == QLatin1String("specversion"))
            r.specVersion = value;
        else if (attr == QLatin1String("id"))
            r.event.id = value;
        else if (attr == QLatin1String("source"))
            r.event.source = value;
        else if (attr == QLatin1String("type"))
            r.event.type = value;
        else if (attr == QLatin1String("subject"))
            r.event.subject = value;
        else if (attr == QLatin1String("time"))
            r.time = value;
        else if (attr == QLatin1String("datacontenttype"))
            r.problems.append(
                QStringLiteral("binary mode carries the data content type in Content-Type, not ce-datacontenttype"));
        else
            r.event.extensions.insert(attr, value);
    }
    r.event.contentType = contentType;
    r.event.data = request.body;
    checkAttributes(r);
    if (!r.event.data.isEmpty() && isJsonContentType(contentType)) {
        QString why;
        if (!isValidJson(r.event.data, &why))
            r.problems.append(QStringLiteral("data is declared as JSON but is not valid JSON (%1)").arg(why));
    }
    out.events.append(r);
    return out;
}

} // namespace cloudevents
} // namespace outbox
