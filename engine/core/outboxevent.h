// SPDX-License-Identifier: MIT
#pragma once

#include "outbox_export.h"

#include <QByteArray>
#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QString>

namespace outbox {

enum class EventStatus { Pending, Failed, Sent };

OUTBOX_EXPORT QString statusName(EventStatus status);
/// Parses "pending", "failed" or "sent"; returns false for anything else.
OUTBOX_EXPORT bool parseStatus(const QString &name, EventStatus *status);

/// One row of the outbox: a CloudEvent plus its delivery state.
struct OutboxEvent
{
    qint64 sequence = 0;
    QString id;
    QString type;
    QString source;
    QString subject;
    QString contentType;
    QByteArray data; ///< exactly the bytes given at enqueue
    QJsonObject extensions; ///< CloudEvents extension attributes (name -> string, number or bool)
    QString orderingKey;
    EventStatus status = EventStatus::Pending;
    int attempts = 0;
    QDateTime nextAttemptAt;
    QString leaseOwner;
    QDateTime leaseExpiresAt;
    QString lastError;
    int lastHttpStatus = 0; ///< 0: no HTTP status (none yet, or a network error)
    QDateTime createdAt;
    QDateTime sentAt;
    QString replayOf;
    QString formatStatus; ///< a foreign outbox's own status name (e.g. "processing", "expired"); empty for ours

    /// True while a relayer holds a lease on the row that has not expired.
    bool isInFlight(const QDateTime &now) const
    {
        return status == EventStatus::Pending && !leaseOwner.isEmpty() && leaseExpiresAt > now;
    }
};

/// One delivery attempt of an event, as recorded in the attempts table.
struct Attempt
{
    /// Operator: not a delivery but an operator's action on the event (a manual retry, a replay), recorded in
    /// the same history; `error` says what was done, `relayer` by whom and from where.
    enum class Outcome { Sent, Retry, Failed, Operator };
    QDateTime attemptedAt;
    Outcome outcome = Outcome::Sent;
    int httpStatus = 0;
    QString error;
    qint64 durationMs = 0;
    QString relayer;
};

/// An outcome's name as the history stores it ("sent", "retry", "failed", "operator"), and back.
///@{
OUTBOX_EXPORT QString outcomeName(Attempt::Outcome outcome);
OUTBOX_EXPORT Attempt::Outcome outcomeFromName(const QString &name);
///@}

/// What a sender reports for one event.
struct DeliveryResult
{
    /// Delivered; worth another attempt later; failed for good.
    enum class Outcome { Sent, Retry, Failed };
    Outcome outcome = Outcome::Sent;
    int httpStatus = 0;
    QString error;
    qint64 retryAfterMs = -1; ///< from a Retry-After header; -1 when absent
    qint64 durationMs = 0;
    /// Why a retry: TargetUnavailable says the target itself is down (refused or reset while connecting, a
    /// connect timeout, a TLS handshake failure, 502/503/504, 429), not the event; Timeout, no answer in time
    /// (a run of them says the same). The relayer then holds the target's events without charging them.
    enum class Cause { Other, TargetUnavailable, Timeout };
    Cause cause = Cause::Other;

    /// The results a custom sender returns: delivered, try again later, failed for good.
    ///@{
    static DeliveryResult sent(int httpStatus = 200) { return {Outcome::Sent, httpStatus, {}, -1, 0}; }
    static DeliveryResult retry(QString error, int httpStatus = 0)
    {
        return {Outcome::Retry, httpStatus, std::move(error), -1, 0};
    }
    static DeliveryResult failed(QString error, int httpStatus = 0)
    {
        return {Outcome::Failed, httpStatus, std::move(error), -1, 0};
    }
    ///@}
};

} // namespace outbox
