// SPDX-License-Identifier: MIT
#pragma once

#include "storage.h"

#include <QDateTime>
#include <QList>
#include <QWidget>

class QLabel;

namespace outbox::ui {

// Events delivered per second over the last minutes, as a small bar chart.
class RateChart : public QWidget
{
    Q_OBJECT
public:
    explicit RateChart(QWidget *parent = nullptr);
    // A sample of the total sent count at a moment; the chart shows the rate between samples.
    void addSample(const QDateTime &at, qint64 sentTotal);
    void clear();
    double latestRate() const { return m_rates.isEmpty() ? 0.0 : m_rates.last().second; }
    QSize sizeHint() const override { return {240, 48}; }

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    QDateTime m_lastAt;
    qint64 m_lastSent = -1;
    QList<std::pair<QDateTime, double>> m_rates; // the last 5 minutes
};

// The outbox at a glance: counts by state, the age of the oldest pending event, blocked ordering keys, the
// delivery rate, and the last relay error.
class HealthPanel : public QWidget
{
    Q_OBJECT
public:
    explicit HealthPanel(QWidget *parent = nullptr);

    void setStats(const OutboxStats &stats, const QDateTime &at);
    // The relayers on the outbox, and the leases of those not known to be alive.
    void setRelayers(const QList<RelayerInfo> &relayers);
    void setLastError(const QString &error, const QDateTime &at);
    // The newest failed event (`at`: its last attempt), when no relay error is shown; an event without an id
    // clears it.
    void setLatestFailure(const OutboxEvent &event, const QDateTime &at);
    // A foreign outbox (its format's name; empty for ours): its own statuses and relayers are shown.
    void setFormat(const QString &format) { m_format = format; }
    void clear();

    QString countText(const QString &name) const; // for tests: "pending", "inflight", "failed", "sent"
    RateChart *chart() const { return m_chart; }

private:
    QLabel *m_pending;
    QLabel *m_inFlight;
    QLabel *m_failed;
    QLabel *m_sent;
    QLabel *m_oldest;
    QLabel *m_relayers = nullptr;
    QLabel *m_blocked;
    QLabel *m_rate;
    QLabel *m_lastError;
    RateChart *m_chart;
    QString m_format;
};

QString ageText(qint64 seconds);

} // namespace outbox::ui
