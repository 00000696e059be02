// SPDX-License-Identifier: MIT
#include "sendevent.h"

#include "sqlstorage.h"

#include "cloudevents.h"
#include "outboxevent.h"
#include "storage.h"
#include "wakeevent.h"

#include <QMutex>
#include <QSet>

namespace outbox {

namespace {

// Schema check once per connection (and database), not on every enqueue.
Error ensureSchema(QSqlDatabase &db)
{
    if (detail::isSchemaChecked(db))
        return {};
    if (Error e = Storage::migrate(db))
        return e;
    detail::setSchemaChecked(db);
    return {};
}

Error checkArguments(
    const QString &type, const QString &source, const QByteArray &data, const SendEventOptions &options)
{
    if (type.trimmed().isEmpty())
        return Error(Error::InvalidArgument, QStringLiteral("the event type must not be empty"));
    if (source.trimmed().isEmpty())
        return Error(Error::InvalidArgument, QStringLiteral("the event source must not be empty"));
    if (!options.eventId.isNull() && options.eventId.trimmed().isEmpty())
        return Error(Error::InvalidArgument, QStringLiteral("the event id must not be empty"));
    if (options.eventId != options.eventId.trimmed())
        return Error(Error::InvalidArgument, QStringLiteral("the event id must not start or end with white space"));
    for (auto it = options.extensions.constBegin(); it != options.extensions.constEnd(); ++it) {
        const QString why = cloudevents::extensionNameProblem(it.key());
        if (!why.isEmpty())
            return Error(Error::InvalidArgument, why);
        if (!it.value().isString() && !it.value().isDouble() && !it.value().isBool())
            return Error(Error::InvalidArgument,
                QStringLiteral("extension attribute '%1' must be a string, number or boolean").arg(it.key()));
    }
    OutboxEvent attributes;
    attributes.id = options.eventId;
    attributes.type = type;
    attributes.source = source;
    attributes.subject = options.subject;
    attributes.contentType = options.contentType;
    attributes.extensions = options.extensions;
    attributes.orderingKey = options.orderingKey;
    if (const QString why = cloudevents::attributeTextProblem(attributes); !why.isEmpty())
        return Error(Error::InvalidArgument, why);
    if (!data.isEmpty() && (options.contentType.isEmpty() || cloudevents::isJsonContentType(options.contentType))) {
        QString why;
        if (!cloudevents::isValidJson(data, &why))
            return Error(Error::InvalidArgument,
                QStringLiteral("the data is not valid JSON (%1); give a content type for other data").arg(why));
    }
    return {};
}

} // namespace

WakeEvent *WakeEvent::instance()
{
    static WakeEvent *hub = new WakeEvent; // lives for the whole process; relayers may outlive main()'s objects
    return hub;
}

void WakeEvent::raise()
{
    Q_EMIT instance()->raised();
}

Result<QString> sendEventTransactional(QSqlDatabase &db, const QString &type, const QString &source,
    const QByteArray &data, const SendEventOptions &options)
{
    if (!db.isOpen())
        return Error(Error::InvalidArgument, QStringLiteral("the database connection is not open"));
    if (Error e = checkArguments(type, source, data, options))
        return e;
    if (Error e = ensureSchema(db))
        return e;

    OutboxEvent event;
    event.id = options.eventId.isEmpty() ? createEventId() : options.eventId;
    event.type = type;
    event.source = source;
    event.subject = options.subject;
    event.contentType =
        options.contentType.isEmpty() && !data.isEmpty() ? QStringLiteral("application/json") : options.contentType;
    event.data = data;
    event.extensions = options.extensions;
    event.orderingKey = options.orderingKey;
    event.replayOf = options.replayOf;
    event.createdAt = QDateTime::currentDateTimeUtc();
    if (Error e = Storage::insertEvent(db, event))
        return e;

    // Wake relayers in this process when the row becomes visible (SQLite: at once outside a transaction,
    // else when the caller's transaction commits; PostgreSQL's NOTIFY rides in the INSERT).
    Storage::wakeOnCommit(db);
    return event.id;
}

Result<QString> sendEventTransactional(QSqlDatabase &db, const QString &type, const QString &source,
    const QJsonObject &data, const SendEventOptions &options)
{
    return sendEventTransactional(db, type, source, detail::jsonBytes(data), options);
}

Result<QString> sendEventTransactional(QSqlDatabase &db, const QString &type, const QString &source,
    const QJsonArray &data, const SendEventOptions &options)
{
    return sendEventTransactional(db, type, source, detail::jsonBytes(data), options);
}

Result<QString> sendEventTransactional(QSqlDatabase &db, const QString &type, const QString &source,
    const QJsonDocument &data, const SendEventOptions &options)
{
    return sendEventTransactional(db, type, source, detail::jsonBytes(data), options);
}

Result<QString> sendEventTransactional(
    QSqlDatabase &db, const QString &type, const QString &source, const QVariant &data, const SendEventOptions &options)
{
    if (data.metaType().id() == QMetaType::QByteArray)
        return sendEventTransactional(db, type, source, data.toByteArray(), options);
    const QJsonValue value = QJsonValue::fromVariant(data);
    const QByteArray text = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
    SendEventOptions o = options;
    if (o.contentType.isEmpty())
        o.contentType = QStringLiteral("application/json");
    return sendEventTransactional(db, type, source, text.mid(1, text.size() - 2), o);
}

} // namespace outbox
