// SPDX-License-Identifier: MIT
#pragma once

#include "outbox_export.h"

#include "error.h"

#include <QByteArray>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlDatabase>
#include <QString>
#include <QVariant>

#include <concepts>

namespace outbox {

/// Options of one enqueued event.
struct SendEventOptions
{
    QString eventId; ///< empty: a new time-ordered UUID
    QString contentType; ///< empty: application/json
    QString subject;
    QString orderingKey; ///< events with the same key are delivered in enqueue order
    QJsonObject extensions; ///< CloudEvents extension attributes, e.g. {"traceparent": "00-..."}
    QString replayOf; ///< the id of an event this one replaces (an operator's fix of a failed one)
};

inline SendEventOptions withContentType(const QString &contentType)
{
    SendEventOptions o;
    o.contentType = contentType;
    return o;
}

/// Writes one event into the outbox on the caller's connection, inside whatever transaction the caller has
/// open: it commits or rolls back with the caller's business data. Returns the event id. The data bytes are
/// stored and sent exactly as given. Nothing is written when an argument is invalid.
OUTBOX_EXPORT Result<QString> sendEventTransactional(QSqlDatabase &db, const QString &type, const QString &source,
    const QByteArray &data, const SendEventOptions &options = {});
OUTBOX_EXPORT Result<QString> sendEventTransactional(QSqlDatabase &db, const QString &type, const QString &source,
    const QJsonObject &data, const SendEventOptions &options = {});
OUTBOX_EXPORT Result<QString> sendEventTransactional(QSqlDatabase &db, const QString &type, const QString &source,
    const QJsonArray &data, const SendEventOptions &options = {});
OUTBOX_EXPORT Result<QString> sendEventTransactional(QSqlDatabase &db, const QString &type, const QString &source,
    const QJsonDocument &data, const SendEventOptions &options = {});
/// A QVariant holding a QByteArray is sent as is; anything else is converted to JSON.
OUTBOX_EXPORT Result<QString> sendEventTransactional(QSqlDatabase &db, const QString &type, const QString &source,
    const QVariant &data, const SendEventOptions &options = {});

namespace detail {
inline QByteArray jsonBytes(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}
inline QByteArray jsonBytes(const QJsonArray &a)
{
    return QJsonDocument(a).toJson(QJsonDocument::Compact);
}
inline QByteArray jsonBytes(const QJsonDocument &d)
{
    return d.toJson(QJsonDocument::Compact);
}
inline QByteArray jsonBytes(const QByteArray &b)
{
    return b;
}
} // namespace detail

/// Any type with a toJson() that returns a QJsonObject, QJsonArray, QJsonDocument or JSON bytes.
template<typename T>
requires requires(const T &t)
{
    detail::jsonBytes(t.toJson());
}
Result<QString> sendEventTransactional(
    QSqlDatabase &db, const QString &type, const QString &source, const T &data, const SendEventOptions &options = {})
{
    SendEventOptions o = options;
    if (o.contentType.isEmpty())
        o.contentType = QStringLiteral("application/json");
    return sendEventTransactional(db, type, source, detail::jsonBytes(data.toJson()), o);
}

} // namespace outbox
