#include "jsonl.h"

#include "cloudevents.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>

using namespace outbox;

namespace {

// The top-level members of a JSON object as written: each key (decoded) with the byte range of its value in
// the line, so data can be taken byte for byte (big integers, key order, 1.10 and spacing kept). The line
// has already been checked as JSON; this only finds where things are.
struct Member
{
    QString key;
    qsizetype begin = 0, end = 0;
};

qsizetype skipSpace(const QByteArray &s, qsizetype i)
{
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        ++i;
    return i;
}

// The end of the JSON string that starts at i (at its opening quote), or -1.
qsizetype skipString(const QByteArray &s, qsizetype i)
{
    for (++i; i < s.size(); ++i) {
        if (s[i] == '\\')
            ++i;
        else if (s[i] == '"')
            return i + 1;
    }
    return -1;
}

// The end of the JSON value that starts at i, or -1.
qsizetype skipValue(const QByteArray &s, qsizetype i)
{
    if (i >= s.size())
        return -1;
    if (s[i] == '"')
        return skipString(s, i);
    if (s[i] == '{' || s[i] == '[') {
        int depth = 0;
        for (; i < s.size(); ++i) {
            const char c = s[i];
            if (c == '"') {
                i = skipString(s, i);
                if (i < 0)
                    return -1;
                --i;
            } else if (c == '{' || c == '[') {
                ++depth;
            } else if ((c == '}' || c == ']') && --depth == 0) {
                return i + 1;
            }
        }
        return -1;
    }
    while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
        ++i;
    return i;
}

QList<Member> topLevelMembers(const QByteArray &line)
{
    QList<Member> members;
    qsizetype i = skipSpace(line, 0);
    if (i >= line.size() || line[i] != '{')
        return members;
    i = skipSpace(line, i + 1);
    while (i < line.size() && line[i] == '"') {
        const qsizetype keyEnd = skipString(line, i);
        if (keyEnd < 0)
            break;
        Member m;
        m.key = QJsonDocument::fromJson("[" + line.mid(i, keyEnd - i) + "]").array().first().toString();
        i = skipSpace(line, keyEnd);
        if (i >= line.size() || line[i] != ':')
            break;
        m.begin = skipSpace(line, i + 1);
        m.end = skipValue(line, m.begin);
        if (m.end < 0)
            break;
        members.append(m);
        i = skipSpace(line, m.end);
        if (i < line.size() && line[i] == ',')
            i = skipSpace(line, i + 1);
    }
    return members;
}

} // namespace

Result<JsonlEvent> parseJsonLine(const QByteArray &line)
{
    QJsonParseError perr;
    const QJsonDocument doc = QJsonDocument::fromJson(line, &perr);
    if (perr.error != QJsonParseError::NoError)
        return Error(Error::InvalidArgument, QStringLiteral("invalid JSON (%1)").arg(perr.errorString()));
    if (!doc.isObject())
        return Error(Error::InvalidArgument, QStringLiteral("expected a JSON object"));
    const QJsonObject o = doc.object();
    const QList<Member> members = topLevelMembers(line);
    QSet<QString> seen;
    const Member *dataMember = nullptr;
    for (const Member &m : members) {
        if (seen.contains(m.key))
            return Error(Error::InvalidArgument, QStringLiteral("the key '%1' appears twice").arg(m.key.left(60)));
        seen.insert(m.key);
        if (m.key == QLatin1String("data"))
            dataMember = &m;
    }
    // Attributes have one type each: a wrong one is refused, not dropped.
    for (const char *name : {"type", "source", "id", "datacontenttype", "subject", "key", "data_base64"}) {
        const QJsonValue v = o.value(QLatin1String(name));
        if (!v.isUndefined() && !v.isString())
            return Error(Error::InvalidArgument, QStringLiteral("'%1' must be a string").arg(QLatin1String(name)));
    }
    if (const QJsonValue v = o.value(QLatin1String("extensions")); !v.isUndefined() && !v.isObject())
        return Error(Error::InvalidArgument, QStringLiteral("'extensions' must be an object"));
    if (o.contains(QLatin1String("data")) && o.contains(QLatin1String("data_base64")))
        return Error(Error::InvalidArgument, QStringLiteral("give data or data_base64, not both"));
    JsonlEvent e;
    e.type = o.value(QLatin1String("type")).toString();
    e.source = o.value(QLatin1String("source")).toString();
    e.options.eventId = o.value(QLatin1String("id")).toString();
    e.options.contentType = o.value(QLatin1String("datacontenttype")).toString();
    e.options.subject = o.value(QLatin1String("subject")).toString();
    e.options.orderingKey = o.value(QLatin1String("key")).toString();
    e.options.extensions = o.value(QLatin1String("extensions")).toObject();
    if (o.contains(QLatin1String("data_base64"))) {
        const auto decoded = QByteArray::fromBase64Encoding(o.value(QLatin1String("data_base64")).toString().toLatin1(),
                                                            QByteArray::AbortOnBase64DecodingErrors);
        if (!decoded)
            return Error(Error::InvalidArgument, QStringLiteral("'data_base64' is not base64"));
        e.data = *decoded;
    } else if (o.contains(QLatin1String("data"))) {
        const QJsonValue v = o.value(QLatin1String("data"));
        if (v.isString() && !e.options.contentType.isEmpty() && !cloudevents::isJsonContentType(e.options.contentType)) {
            e.data = v.toString().toUtf8(); // text data of a non-JSON type: the string's content
        } else if (dataMember) {
            e.data = line.mid(dataMember->begin, dataMember->end - dataMember->begin); // byte for byte, as written
        } else {
            const QByteArray text = QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact);
            e.data = text.mid(1, text.size() - 2);
        }
    }
    return e;
}
