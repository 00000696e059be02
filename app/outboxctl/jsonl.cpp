// SPDX-License-Identifier: MIT
#include "jsonl.h"

#include "cloudevents.h"
#include "jsonscan.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>

using namespace outbox;

Result<JsonlEvent> parseJsonLine(const QByteArray &line)
{
    QJsonParseError perr;
    const QJsonDocument doc = QJsonDocument::fromJson(line, &perr);
    if (perr.error != QJsonParseError::NoError)
        return Error(Error::InvalidArgument, QStringLiteral("invalid JSON (%1)").arg(perr.errorString()));
    if (!doc.isObject())
        return Error(Error::InvalidArgument, QStringLiteral("expected a JSON object"));
    const QJsonObject o = doc.object();
    // The members as written: the data is taken byte for byte (big integers, key order, 1.10 and spacing
    // kept), and a key given twice is refused rather than collapsed.
    const QList<cloudevents::JsonMember> members = cloudevents::jsonObjectMembers(line);
    QSet<QString> seen;
    const cloudevents::JsonMember *dataMember = nullptr;
    for (const cloudevents::JsonMember &m : members) {
        const QString key = QJsonDocument::fromJson("[" + m.name.toByteArray() + "]").array().at(0).toString();
        if (seen.contains(key))
            return Error(Error::InvalidArgument, QStringLiteral("the key '%1' appears twice").arg(key.left(60)));
        seen.insert(key);
        if (key == QLatin1String("data"))
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
        const auto decoded = QByteArray::fromBase64Encoding(
            o.value(QLatin1String("data_base64")).toString().toLatin1(), QByteArray::AbortOnBase64DecodingErrors);
        if (!decoded)
            return Error(Error::InvalidArgument, QStringLiteral("'data_base64' is not base64"));
        e.data = *decoded;
    } else if (o.contains(QLatin1String("data"))) {
        const QJsonValue v = o.value(QLatin1String("data"));
        if (v.isString() && !e.options.contentType.isEmpty()
            && !cloudevents::isJsonContentType(e.options.contentType)) {
            e.data = v.toString().toUtf8(); // text data of a non-JSON type: the string's content
        } else if (dataMember) {
            e.data = line.mid(dataMember->valueBegin, dataMember->valueEnd - dataMember->valueBegin); // byte for byte
        } else {
            const QByteArray text = QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact);
            e.data = text.mid(1, text.size() - 2);
        }
    }
    return e;
}
