// SPDX-License-Identifier: MIT
#pragma once

#include "storage.h"

#include <QMap>
#include <QTcpServer>

#include <array>
#include <memory>

// Prometheus metrics and a health check for a running relayer, over plain HTTP on loopback:
//   GET /metrics   events by outcome, pending/failed/in-flight counts, oldest pending age, blocked keys,
//                  delivery latency histogram
//   GET /healthz   200 when the outbox answers, 503 with the error when it does not; the body names every
//                  target found unavailable (still 200: the relayer itself is healthy, it holds their events)
class MetricsServer : public QTcpServer
{
public:
    explicit MetricsServer(const outbox::ConnectionSpec &spec);

    void countOutcome(const char *outcome) { ++m_outcomes[QByteArray(outcome)]; }
    void countRouteOutcome(const QString &route, const char *outcome)
    {
        ++m_routeOutcomes[{route.toUtf8(), QByteArray(outcome)}];
    }
    void observeDelivery(qint64 durationMs);
    void setTargetState(const QString &route, const outbox::TargetState &state) { m_targets[route] = state; }

protected:
    void incomingConnection(qintptr descriptor) override;

private:
    QByteArray metrics(bool *healthy, QString *problem);

    outbox::ConnectionSpec m_spec;
    std::unique_ptr<outbox::Storage> m_storage;
    QMap<QByteArray, qint64> m_outcomes;
    QMap<std::pair<QByteArray, QByteArray>, qint64> m_routeOutcomes; // (route, outcome)
    QMap<QString, outbox::TargetState> m_targets; // by route ("default" without routes)
    static constexpr std::array<double, 10> kBuckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};
    std::array<qint64, kBuckets.size()> m_bucketCounts{};
    qint64 m_deliveries = 0;
    double m_deliverySeconds = 0;
};
