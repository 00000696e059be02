#include "jsonl.h"

#include "cloudevents.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

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
    JsonlEvent e;
    e.type = o.value(QLatin1String("type")).toString();
    e.source = o.value(QLatin1String("source")).toString();
    e.options.eventId = o.value(QLatin1String("id")).toString();
    e.options.contentType = o.value(QLatin1String("datacontenttype")).toString();
    e.options.subject = o.value(QLatin1String("subject")).toString();
    e.options.orderingKey = o.value(QLatin1String("key")).toString();
    e.options.extensions = o.value(QLatin1String("extensions")).toObject();
    if (o.contains(QLatin1String("data_base64"))) {
        e.data = QByteArray::fromBase64(o.value(QLatin1String("data_base64")).toString().toLatin1());
    } else if (o.contains(QLatin1String("data"))) {
        const QJsonValue v = o.value(QLatin1String("data"));
        if (v.isString() && !e.options.contentType.isEmpty() && !cloudevents::isJsonContentType(e.options.contentType)) {
            e.data = v.toString().toUtf8();
        } else {
            const QByteArray text = QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact);
            e.data = text.mid(1, text.size() - 2);
        }
    }
    return e;
}
