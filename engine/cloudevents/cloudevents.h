// SPDX-License-Identifier: MIT
#pragma once

#include "outbox_export.h"

#include "outboxevent.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <utility>

namespace outbox {

/// The CloudEvents 1.0 HTTP protocol binding's content modes.
enum class ContentMode {
    Binary, ///< ce-* headers, the data as the body
    Structured, ///< application/cloudevents+json
    Batch, ///< application/cloudevents-batch+json: many events in one request
};

OUTBOX_EXPORT QString contentModeName(ContentMode mode);
OUTBOX_EXPORT bool parseContentMode(const QString &name, ContentMode *mode);

/// An HTTP request or response body with its headers (names as sent, lower case for ours).
struct OUTBOX_EXPORT HttpMessage
{
    QList<std::pair<QByteArray, QByteArray>> headers;
    QByteArray body;

    /// The first header of that name (case-insensitive), or a null array.
    QByteArray header(const QByteArray &name) const;
    /// Appends a header (a name may repeat).
    void addHeader(const QByteArray &name, const QByteArray &value) { headers.append(std::pair(name, value)); }
};

/// One event as a receiver read it, with what is wrong with it (empty when it is a valid CloudEvent).
struct ReceivedEvent
{
    OutboxEvent event; ///< id, type, source, subject, contentType, data, extensions; createdAt from time
    QString specVersion;
    QString time; ///< as sent
    QStringList problems;
    /// Whether it is a valid CloudEvent (no problems).
    bool isValid() const { return problems.isEmpty(); }
};

/// A request as a receiver read it: its content mode and the events in it (Receiver, cloudevents::decode()).
struct DecodedRequest
{
    ContentMode mode = ContentMode::Binary;
    QList<ReceivedEvent> events;
    QString error; ///< the request as a whole could not be read (e.g. a batch that is not a JSON array)
};

namespace cloudevents {

/// RFC 3339 in UTC with milliseconds, e.g. 2026-11-26T21:25:15.123Z.
OUTBOX_EXPORT QString formatTime(const QDateTime &time);
OUTBOX_EXPORT bool isJsonContentType(const QString &contentType);
/// True when the bytes are one JSON value (object, array, string, number, true, false or null).
OUTBOX_EXPORT bool isValidJson(const QByteArray &bytes, QString *why = nullptr);
/// Empty when the name may be used for an extension attribute; otherwise why not.
OUTBOX_EXPORT QString extensionNameProblem(const QString &name);
/// The longest attribute value (id, type, source, subject, datacontenttype, ordering key, each extension):
/// binary mode sends them as headers, and receivers refuse request heads over 8-16 KiB.
constexpr qsizetype kMaxAttributeLength = 2048;
/// Empty when no attribute value holds a character CloudEvents disallows in strings (the control characters
/// U+0000-U+001F and U+007F-U+009F) or is longer than kMaxAttributeLength; otherwise which attribute does.
OUTBOX_EXPORT QString attributeTextProblem(const OutboxEvent &event);
/// Empty when the event can be sent in that mode; otherwise the reason it is not a valid CloudEvent.
OUTBOX_EXPORT QString validate(const OutboxEvent &event, ContentMode mode);

OUTBOX_EXPORT HttpMessage encode(const OutboxEvent &event, ContentMode mode); ///< Binary or Structured
OUTBOX_EXPORT HttpMessage encodeBatch(const QList<OutboxEvent> &events);
/// The structured-mode JSON object of one event; JSON data is spliced in byte for byte (no re-encoding).
OUTBOX_EXPORT QByteArray structuredJson(const OutboxEvent &event);

OUTBOX_EXPORT DecodedRequest decode(const HttpMessage &request);

} // namespace cloudevents
} // namespace outbox
