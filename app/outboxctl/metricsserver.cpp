// SPDX-License-Identifier: MIT
#include "metricsserver.h"

#include <QDateTime>
#include <QTcpSocket>

MetricsServer::MetricsServer(const outbox::ConnectionSpec &spec) : m_spec(spec)
{
    for (const char *outcome : {"sent", "retry", "failed"})
        m_outcomes.insert(outcome, 0);
}

void MetricsServer::observeDelivery(qint64 durationMs)
{
    const double seconds = double(durationMs) / 1000.0;
    ++m_deliveries;
    m_deliverySeconds += seconds;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
        if (seconds <= kBuckets[i])
            ++m_bucketCounts[i];
    }
}

// (Long: the exposition text, one metric family after another.)
QByteArray MetricsServer::metrics(bool *healthy, QString *problem)
{
    QByteArray out;
    out += "# HELP outbox_events_delivered_total Delivery attempts by this relayer, by outcome.\n";
    out += "# TYPE outbox_events_delivered_total counter\n";
    for (auto it = m_outcomes.constBegin(); it != m_outcomes.constEnd(); ++it)
        out += "outbox_events_delivered_total{outcome=\"" + it.key() + "\"} " + QByteArray::number(it.value()) + "\n";
    if (!m_routeOutcomes.isEmpty()) {
        out += "# HELP outbox_route_events_delivered_total Delivery attempts by this relayer, by route and outcome.\n";
        out += "# TYPE outbox_route_events_delivered_total counter\n";
        for (auto it = m_routeOutcomes.constBegin(); it != m_routeOutcomes.constEnd(); ++it)
            out += "outbox_route_events_delivered_total{route=\"" + it.key().first + "\",outcome=\"" + it.key().second
                + "\"} " + QByteArray::number(it.value()) + "\n";
    }
    if (!m_targets.isEmpty()) {
        out += "# HELP outbox_target_up Whether the route's target answers (0: unavailable, its events held).\n";
        out += "# TYPE outbox_target_up gauge\n";
        for (auto it = m_targets.constBegin(); it != m_targets.constEnd(); ++it)
            out += "outbox_target_up{route=\"" + it.key().toUtf8() + "\"} " + (it->isAvailable() ? "1" : "0") + "\n";
    }
    out += "# HELP outbox_delivery_duration_seconds Time from request to answer of delivered events.\n";
    out += "# TYPE outbox_delivery_duration_seconds histogram\n";
    for (size_t i = 0; i < kBuckets.size(); ++i)
        out += "outbox_delivery_duration_seconds_bucket{le=\"" + QByteArray::number(kBuckets[i]) + "\"} "
            + QByteArray::number(m_bucketCounts[i]) + "\n";
    out += "outbox_delivery_duration_seconds_bucket{le=\"+Inf\"} " + QByteArray::number(m_deliveries) + "\n";
    out += "outbox_delivery_duration_seconds_sum " + QByteArray::number(m_deliverySeconds, 'f', 6) + "\n";
    out += "outbox_delivery_duration_seconds_count " + QByteArray::number(m_deliveries) + "\n";

    // The outbox as a whole, read at scrape time on a connection of the server's own.
    // A SQLite file deleted or replaced under the relayer: read the file now at the path, or be unhealthy.
    if (m_storage && m_storage->isFileReplaced())
        m_storage.reset();
    if (!m_storage) {
        auto storage = outbox::Storage::open(m_spec, outbox::Storage::OpenMode::MustExist);
        if (storage.isOk())
            m_storage = std::move(storage.value());
    }
    auto stats = m_storage ? m_storage->stats()
                           : outbox::Result<outbox::OutboxStats>(
                               outbox::Error(outbox::Error::Database, QStringLiteral("cannot open the outbox")));
    *healthy = stats.isOk();
    if (!stats.isOk()) {
        *problem = stats.error().message();
        if (m_storage && m_storage->has(outbox::Storage::Capability::ServerConnection))
            m_storage->reconnect();
        out += "outbox_up 0\n";
        return out;
    }
    const qint64 age = stats->oldestPendingCreatedAt.isValid()
        ? stats->oldestPendingCreatedAt.msecsTo(QDateTime::currentDateTimeUtc())
        : 0;
    out += "# HELP outbox_up Whether the outbox answered this scrape.\n# TYPE outbox_up gauge\noutbox_up 1\n";
    out += "# HELP outbox_events Events in the outbox by status.\n# TYPE outbox_events gauge\n";
    out += "outbox_events{status=\"pending\"} " + QByteArray::number(stats->pending) + "\n";
    out += "outbox_events{status=\"failed\"} " + QByteArray::number(stats->failed) + "\n";
    out += "outbox_events{status=\"sent\"} " + QByteArray::number(stats->sent) + "\n";
    out += "# HELP outbox_events_in_flight Pending events under a live lease.\n# TYPE outbox_events_in_flight gauge\n";
    out += "outbox_events_in_flight " + QByteArray::number(stats->inFlight) + "\n";
    out += "# HELP outbox_oldest_pending_age_seconds Age of the oldest pending event (0 when none).\n";
    out += "# TYPE outbox_oldest_pending_age_seconds gauge\n";
    out += "outbox_oldest_pending_age_seconds " + QByteArray::number(double(age) / 1000.0, 'f', 3) + "\n";
    out += "# HELP outbox_blocked_keys Ordering keys held back by a failed event.\n# TYPE outbox_blocked_keys gauge\n";
    out += "outbox_blocked_keys " + QByteArray::number(stats->blockedKeyCount) + "\n";
    if (auto relayers = m_storage->relayers(true); relayers.isOk()) {
        auto label = [](const QString &value) {
            QByteArray v = value.toUtf8();
            return v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
        };
        QHash<QString, int> byState;
        for (const outbox::RelayerInfo &r : std::as_const(*relayers))
            ++byState[outbox::relayerStateName(r.state)];
        out += "# HELP outbox_relayers Relayers on the outbox by state (gone: its process or session ended).\n";
        out += "# TYPE outbox_relayers gauge\n";
        for (const char *state : {"alive", "gone", "unknown"})
            out += "outbox_relayers{state=\"" + QByteArray(state) + "\"} "
                + QByteArray::number(byState.value(QLatin1String(state))) + "\n";
        out += "# HELP outbox_leased_events Pending events leased, by owner and its state.\n# TYPE "
               "outbox_leased_events gauge\n";
        for (const outbox::RelayerInfo &r : std::as_const(*relayers)) {
            out += "outbox_leased_events{owner=\"" + label(r.owner) + "\",state=\""
                + outbox::relayerStateName(r.state).toUtf8() + "\"} " + QByteArray::number(r.held) + "\n";
        }
    }
    return out;
}

void MetricsServer::incomingConnection(qintptr descriptor)
{
    auto *socket = new QTcpSocket(this);
    if (!socket->setSocketDescriptor(descriptor)) {
        delete socket;
        return;
    }
    connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    connect(socket, &QTcpSocket::readyRead, socket, [this, socket] {
        if (!socket->canReadLine())
            return;
        const QList<QByteArray> request = socket->readLine(8192).trimmed().split(' ');
        const QByteArray path = request.size() >= 2 ? request.at(1) : QByteArray();
        int status = 200;
        QByteArray body;
        QByteArray type = "text/plain; charset=utf-8";
        bool healthy = false;
        QString problem;
        if (request.value(0) != "GET") {
            status = 405;
            body = "use GET\n";
        } else if (path == "/metrics") {
            body = metrics(&healthy, &problem);
            type = "text/plain; version=0.0.4; charset=utf-8";
        } else if (path == "/healthz" || path == "/health") {
            metrics(&healthy, &problem);
            status = healthy ? 200 : 503;
            body = healthy ? "ok\n" : problem.toUtf8() + "\n";
            const QDateTime now = QDateTime::currentDateTimeUtc();
            for (auto it = m_targets.constBegin(); it != m_targets.constEnd(); ++it) {
                if (!it->isAvailable())
                    body += "route " + it.key().toUtf8() + ": target " + it->target.toUtf8() + " "
                        + outbox::targetStateText(*it, now).toUtf8() + "\n";
            }
        } else {
            status = 404;
            body = "try /metrics or /healthz\n";
        }
        const QByteArray reason = status == 200 ? "OK"
            : status == 503                     ? "Service Unavailable"
            : status == 404                     ? "Not Found"
                                                : "Method Not Allowed";
        socket->write("HTTP/1.1 " + QByteArray::number(status) + " " + reason + "\r\nContent-Type: " + type
            + "\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
        socket->disconnectFromHost();
    });
}
