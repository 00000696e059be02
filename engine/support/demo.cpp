// SPDX-License-Identifier: MIT
#include "demo.h"

#include "relaystore.h"
#include "sendevent.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonObject>
#include <QStandardPaths>

namespace outbox::demo {

QString databasePath()
{
    const QString dir =
        QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) + QStringLiteral("/outbox-console");
    QDir().mkpath(dir);
    return dir + QStringLiteral("/demo.db");
}

Error enqueueSamples(QSqlDatabase db, int first, int count)
{
    const QStringList types = {QStringLiteral("com.example.order.created"), QStringLiteral("com.example.order.paid"),
        QStringLiteral("com.example.order.shipped"), QStringLiteral("com.example.customer.registered")};
    if (Error e = Storage::beginWrite(db))
        return e;
    for (int i = first; i < first + count; ++i) {
        SendEventOptions o;
        o.subject = QStringLiteral("order-%1").arg(1000 + i / 3);
        if (i % 4 != 3)
            o.orderingKey = o.subject;
        if (i % 5 == 0)
            o.extensions.insert(QStringLiteral("traceparent"),
                QStringLiteral("00-4bf92f3577b34da6a3ce929d0e0e%1-00f067aa0ba902b7-01")
                    .arg(i % 10000, 4, 10, QLatin1Char('0')));
        const QJsonObject data{{QStringLiteral("orderId"), 1000 + i / 3}, {QStringLiteral("amount"), 19.5 + i},
            {QStringLiteral("currency"), QStringLiteral("EUR")},
            {QStringLiteral("items"),
                QJsonArray{QJsonObject{{QStringLiteral("sku"), QStringLiteral("SKU-%1").arg(i % 17)},
                    {QStringLiteral("qty"), 1 + i % 3}}}}};
        auto id = sendEventTransactional(db, types.at(i % types.size()), QStringLiteral("/demo/shop"), data, o);
        if (!id.isOk()) {
            db.rollback();
            return id.error();
        }
    }
    if (!db.commit())
        return Error(Error::Database, QStringLiteral("cannot commit the sample events"));
    return {};
}

Result<int> fillIfEmpty(Storage &storage)
{
    auto count = storage.countEvents({});
    if (!count.isOk())
        return count.error();
    if (count.value() > 0)
        return 0;
    constexpr int kSamples = 240;
    if (Error e = enqueueSamples(storage.database(), 1, kSamples))
        return e;
    // A delivery history: most were sent, some failed for good, some wait for a retry.
    const QString owner = QStringLiteral("demo-history");
    auto relay = detail::requireRelayStore(storage);
    if (!relay.isOk())
        return relay.error();
    auto claimed = relay.value()->claim(owner, 200, 60000);
    if (!claimed.isOk())
        return claimed.error();
    QList<detail::DeliveryRecord> records;
    const QDateTime now = QDateTime::currentDateTimeUtc();
    for (const OutboxEvent &e : claimed.value()) {
        detail::DeliveryRecord r;
        r.sequence = e.sequence;
        r.attemptedAt = now;
        r.durationMs = 3 + e.sequence % 20;
        if (e.sequence % 23 == 0) {
            r.newStatus = EventStatus::Failed;
            r.outcome = Attempt::Outcome::Failed;
            r.httpStatus = 404;
            r.error = QStringLiteral("HTTP 404 Not Found: no route for this event type");
        } else if (e.sequence % 17 == 0) {
            r.newStatus = EventStatus::Pending;
            r.outcome = Attempt::Outcome::Retry;
            r.httpStatus = 503;
            r.error = QStringLiteral("HTTP 503 Service Unavailable");
            r.nextAttemptAt = now.addSecs(600);
        } else {
            r.newStatus = EventStatus::Sent;
            r.outcome = Attempt::Outcome::Sent;
            r.httpStatus = 200;
        }
        records.append(r);
    }
    if (Error e = relay.value()->complete(owner, records))
        return e;
    if (Error e = relay.value()->releaseAll(owner))
        return e;
    return kSamples;
}

} // namespace outbox::demo
