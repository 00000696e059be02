// SPDX-License-Identifier: MIT
#pragma once

#include "storage.h"

#include <QDateTime>
#include <QList>
#include <QWidget>

class QLabel;

namespace outbox::ui {

// Events delivered and failed per second over the last hour, in 10-second bars: delivered in green, failed in
// red above them.
class RateChart : public QWidget
{
    Q_OBJECT
public:
    static constexpr int kBucketSeconds = 10;
    static constexpr int kBuckets = 360; // an hour

    explicit RateChart(QWidget *parent = nullptr);
    // A sample of the total sent and failed counts at a moment; the chart counts what grew between samples.
    void addSample(const QDateTime &at, qint64 sentTotal, qint64 failedTotal = -1);
    // The hour before the console opened the outbox, from its database (Storage::deliveryHistory): buckets
    // older than the live samples take the history's counts.
    void seed(const QList<DeliveryBucket> &history);
    void clear();
    double latestRate() const { return m_latestRate; }
    // What "Delivered/s" shows: the rate between the last two samples, or the last minute's average when that
    // is higher (a burst between two samples, or deliveries just before the first one, stay visible a minute).
    double shownRate(const QDateTime &now) const;
    // Delivered and failed in the bucket holding `at` (for tests).
    std::pair<qint64, qint64> bucketAt(const QDateTime &at) const;
    QSize sizeHint() const override { return {360, 56}; }

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    struct Bucket
    {
        qint64 start = 0; // seconds since the epoch, a multiple of kBucketSeconds
        qint64 sent = 0;
        qint64 failed = 0;
    };
    QDateTime m_lastAt;
    qint64 m_lastSent = -1;
    qint64 m_lastFailed = -1;
    double m_latestRate = 0;
    QList<Bucket> m_buckets; // oldest first, the last hour
};

// The outbox at a glance: a verdict in one line (relaying, stalled, failing or idle), counts by state with the
// pending events split into ready, retrying and parked, the age of the oldest ready event, the blocked
// ordering keys (each a link to its events), the delivery rate over the last hour, and the latest failure
// (a link to its event; Dismiss hides it until a newer one).
class HealthPanel : public QWidget
{
    Q_OBJECT
public:
    enum class Verdict { None, Idle, Relaying, Failing, Stalled, TargetUnavailable };

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
    void seedRateHistory(const QList<DeliveryBucket> &history);
    Verdict verdict() const { return m_verdict; }
    // Rows of a foreign outbox "processing" for longer than this are stuck (as outboxctl release's default).
    static constexpr qint64 kStuckProcessingSeconds = 600;
    int aliveRelayers() const { return m_aliveRelayers; }

Q_SIGNALS:
    void keyClicked(const QString &orderingKey);
    void eventClicked(const QString &id);

private:
    void updateVerdict(const QDateTime &now);

    QLabel *m_verdictLabel;
    QLabel *m_pending;
    QLabel *m_split;
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
    OutboxStats m_stats;
    bool m_hasStats = false;
    int m_aliveRelayers = 0;
    QList<TargetState> m_targetsDown; // what live relayers found of their targets: the unavailable ones
    QStringList m_blockedKeys; // as the links number them
    QString m_failureId; // the latest failure shown, its time, and the one the operator dismissed
    QDateTime m_failureAt;
    QString m_failureText;
    QString m_relayError; // this console's relayer's error, shown on the failure line while there is one
    QDateTime m_dismissedAt;
    Verdict m_verdict = Verdict::None;
};

QString ageText(qint64 seconds);

} // namespace outbox::ui
