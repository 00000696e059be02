// SPDX-License-Identifier: MIT
#include "healthpanel.h"

#include "textutil.h"
#include "tones.h"

#include <QGridLayout>
#include <QLabel>
#include <QLocale>
#include <QMap>
#include <QPainter>

#include <limits>

namespace outbox::ui {

QString ageText(qint64 seconds)
{
    if (seconds < 60)
        return QObject::tr("%1 s").arg(seconds);
    if (seconds < 3600)
        return QObject::tr("%1 min %2 s").arg(seconds / 60).arg(seconds % 60);
    if (seconds < 86400)
        return QObject::tr("%1 h %2 min").arg(seconds / 3600).arg((seconds % 3600) / 60);
    return QObject::tr("%1 d %2 h").arg(seconds / 86400).arg((seconds % 86400) / 3600);
}

RateChart::RateChart(QWidget *parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("rateChart"));
    setMinimumSize(100, 44);
    setToolTip(tr("Events delivered (green) and failed (red) per second over the last hour, in 10-second bars"));
}

void RateChart::clear()
{
    m_lastAt = QDateTime();
    m_lastSent = -1;
    m_lastFailed = -1;
    m_latestRate = 0;
    m_buckets.clear();
    update();
}

void RateChart::addSample(const QDateTime &at, qint64 sentTotal, qint64 failedTotal)
{
    if (m_lastSent >= 0 && m_lastAt.isValid()) {
        const qint64 ms = m_lastAt.msecsTo(at);
        if (ms < 1000)
            return; // too short a time for a rate: measure against the earlier sample
        // Cleanup lowers the totals, a retry the failed one: count that as nothing delivered or failed.
        const qint64 sent = qMax<qint64>(0, sentTotal - m_lastSent);
        const qint64 failed = failedTotal >= 0 && m_lastFailed >= 0 ? qMax<qint64>(0, failedTotal - m_lastFailed) : 0;
        m_latestRate = sent * 1000.0 / double(ms);
        const qint64 start = at.toSecsSinceEpoch() / kBucketSeconds * kBucketSeconds;
        if (m_buckets.isEmpty() || m_buckets.last().start != start)
            m_buckets.append({start, 0, 0});
        m_buckets.last().sent += sent;
        m_buckets.last().failed += failed;
        while (!m_buckets.isEmpty() && m_buckets.first().start <= start - kBucketSeconds * kBuckets)
            m_buckets.removeFirst();
    }
    m_lastAt = at;
    m_lastSent = sentTotal;
    m_lastFailed = failedTotal;
    update();
}

double RateChart::shownRate(const QDateTime &now) const
{
    const qint64 from = now.toSecsSinceEpoch() - 60;
    qint64 sent = 0;
    for (const Bucket &b : m_buckets) {
        if (b.start + kBucketSeconds > from)
            sent += b.sent;
    }
    return qMax(m_latestRate, double(sent) / 60.0);
}

static QString rateText(double rate)
{
    return QString::number(rate, 'f', rate > 0 && rate < 10 ? 1 : 0);
}

void RateChart::seed(const QList<DeliveryBucket> &history)
{
    const qint64 liveFrom = m_lastAt.isValid() ? m_lastAt.toSecsSinceEpoch() / kBucketSeconds * kBucketSeconds
                                               : std::numeric_limits<qint64>::max();
    const qint64 oldest =
        QDateTime::currentSecsSinceEpoch() / kBucketSeconds * kBucketSeconds - qint64(kBucketSeconds) * kBuckets;
    QMap<qint64, Bucket> merged;
    for (const Bucket &b : std::as_const(m_buckets))
        merged.insert(b.start, b);
    for (const DeliveryBucket &h : history) {
        const qint64 start = h.start.toSecsSinceEpoch() / kBucketSeconds * kBucketSeconds;
        if (start < liveFrom && start > oldest)
            merged.insert(start, Bucket{start, h.sent, h.failed});
    }
    m_buckets = QList<Bucket>(merged.cbegin(), merged.cend());
    update();
}

std::pair<qint64, qint64> RateChart::bucketAt(const QDateTime &at) const
{
    const qint64 start = at.toSecsSinceEpoch() / kBucketSeconds * kBucketSeconds;
    for (const Bucket &b : m_buckets) {
        if (b.start == start)
            return {b.sent, b.failed};
    }
    return {0, 0};
}

void RateChart::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    const QRect r = rect().adjusted(0, 0, -1, -1);
    p.fillRect(r, palette().base());
    p.setPen(palette().mid().color());
    p.drawRect(r);
    if (m_buckets.isEmpty())
        return;
    double top = 1.0;
    for (const Bucket &b : m_buckets)
        top = qMax(top, double(b.sent + b.failed) / kBucketSeconds);
    // The right edge is now: history alone (no live sample yet) is drawn where it happened.
    const qint64 end =
        qMax(m_buckets.last().start, QDateTime::currentSecsSinceEpoch() / kBucketSeconds * kBucketSeconds);
    const double barWidth = double(r.width() - 2) / kBuckets;
    const double height = r.height() - 2;
    p.setPen(Qt::NoPen);
    for (const Bucket &b : m_buckets) {
        const double x = 1 + barWidth * double(kBuckets - 1 - (end - b.start) / kBucketSeconds);
        const double sent = height * (double(b.sent) / kBucketSeconds) / top;
        const double failed = height * (double(b.failed) / kBucketSeconds) / top;
        p.setBrush(toneColour(Tone::Good, palette()));
        p.drawRect(QRectF(x, r.bottom() - sent, qMax(1.0, barWidth), sent));
        p.setBrush(toneColour(Tone::Bad, palette()));
        p.drawRect(QRectF(x, r.bottom() - sent - failed, qMax(1.0, barWidth), failed));
    }
    p.setPen(palette().text().color());
    p.drawText(r.adjusted(4, 2, -4, -2), Qt::AlignTop | Qt::AlignRight, tr("max %1/s · 1 h").arg(top, 0, 'f', 0));
}

HealthPanel::HealthPanel(QWidget *parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("healthPanel"));
    auto *grid = new QGridLayout(this);
    grid->setContentsMargins(4, 4, 4, 4);
    grid->setHorizontalSpacing(18);
    m_verdictLabel = new QLabel(this);
    m_verdictLabel->setObjectName(QStringLiteral("verdict"));
    m_verdictLabel->setTextFormat(Qt::PlainText);
    QFont vf = m_verdictLabel->font();
    vf.setBold(true);
    vf.setPointSizeF(vf.pointSizeF() * 1.15);
    m_verdictLabel->setFont(vf);
    m_verdictLabel->setWordWrap(true); // a long verdict takes a second line rather than widening the window
    grid->addWidget(m_verdictLabel, 0, 0, 1, 7);
    auto box = [this, grid](const QString &caption, int column, const QString &name) {
        auto *title = new QLabel(caption, this);
        // The caption in the text colour, smaller: "mid" is too faint on some light and dark palettes.
        QFont cf = title->font();
        cf.setPointSizeF(cf.pointSizeF() * 0.9);
        title->setFont(cf);
        auto *value = new QLabel(QStringLiteral("–"), this);
        value->setObjectName(name);
        value->setTextFormat(Qt::PlainText);
        QFont f = value->font();
        f.setPointSizeF(f.pointSizeF() * 1.4);
        f.setBold(true);
        value->setFont(f);
        grid->addWidget(title, 1, column);
        grid->addWidget(value, 2, column);
        return value;
    };
    m_pending = box(tr("Pending"), 0, QStringLiteral("pending"));
    m_inFlight = box(tr("of them in flight"), 1, QStringLiteral("inflight"));
    m_failed = box(tr("Failed"), 2, QStringLiteral("failed"));
    m_sent = box(tr("Sent"), 3, QStringLiteral("sent"));
    m_oldest = box(tr("Oldest ready"), 4, QStringLiteral("oldest"));
    m_rate = box(tr("Delivered/s"), 5, QStringLiteral("rate"));
    m_split = new QLabel(this);
    m_split->setObjectName(QStringLiteral("pendingSplit"));
    m_split->setTextFormat(Qt::PlainText);
    m_split->setWordWrap(true);
    grid->addWidget(m_split, 3, 0, 1, 4);
    m_chart = new RateChart(this);
    grid->addWidget(m_chart, 1, 6, 3, 1);
    m_blocked = new QLabel(this);
    m_blocked->setTextFormat(Qt::RichText);
    m_blocked->setObjectName(QStringLiteral("blocked"));
    m_blocked->setWordWrap(true);
    m_lastError = new QLabel(this);
    m_lastError->setTextFormat(Qt::RichText);
    m_lastError->setObjectName(QStringLiteral("lastError"));
    m_lastError->setWordWrap(true);
    m_relayers = new QLabel(this);
    m_relayers->setTextFormat(Qt::PlainText);
    m_relayers->setObjectName(QStringLiteral("relayers"));
    m_relayers->setWordWrap(true);
    // The blocked keys and the relayers share a line: the header leaves the room below to the events.
    grid->addWidget(m_blocked, 4, 0, 1, 4);
    grid->addWidget(m_relayers, 4, 4, 1, 3);
    grid->addWidget(m_lastError, 5, 0, 1, 7);
    grid->setColumnStretch(6, 1);
    connect(m_blocked, &QLabel::linkActivated, this, [this](const QString &link) {
        const int i = link.mid(4).toInt();
        if (link.startsWith(QLatin1String("key:")) && i >= 0 && i < m_blockedKeys.size())
            Q_EMIT keyClicked(m_blockedKeys.at(i));
    });
    connect(m_lastError, &QLabel::linkActivated, this, [this](const QString &link) {
        if (link == QLatin1String("event") && !m_failureId.isEmpty()) {
            Q_EMIT eventClicked(m_failureId);
        } else if (link == QLatin1String("dismiss")) {
            m_dismissedAt = m_failureAt;
            m_lastError->clear();
            updateVerdict(QDateTime::currentDateTimeUtc());
        }
    });
    clear();
}

void HealthPanel::clear()
{
    for (QLabel *l : {m_pending, m_inFlight, m_failed, m_sent, m_oldest, m_rate})
        l->setText(QStringLiteral("–"));
    m_failed->setStyleSheet(QString());
    m_split->clear();
    m_blocked->setText(tr("Blocked ordering keys: none"));
    m_blockedKeys.clear();
    m_relayers->setText(tr("Relayers: none running"));
    m_lastError->clear();
    m_chart->clear();
    m_hasStats = false;
    m_aliveRelayers = 0;
    m_failureId.clear();
    m_failureAt = QDateTime();
    m_failureText.clear();
    m_relayError.clear();
    m_dismissedAt = QDateTime();
    m_verdict = Verdict::None;
    m_verdictLabel->clear();
}

void HealthPanel::setStats(const OutboxStats &s, const QDateTime &at)
{
    const QLocale locale;
    m_stats = s;
    m_hasStats = true;
    // The same count as the Pending tab: in flight is a part of it, shown beside.
    m_pending->setText(locale.toString(s.pending));
    m_inFlight->setText(locale.toString(s.inFlight));
    m_failed->setText(locale.toString(s.failed));
    m_failed->setStyleSheet(s.failed > 0 ? toneStyle(Tone::Bad) : QString());
    m_sent->setText(locale.toString(s.sent));
    m_oldest->setText(
        s.oldestReadyCreatedAt.isValid() ? ageText(qMax<qint64>(0, s.oldestReadyCreatedAt.secsTo(at))) : tr("none"));
    m_oldest->setToolTip(s.oldestPendingCreatedAt.isValid()
            ? tr("The oldest pending event, ready or not, was created %1 ago")
                  .arg(ageText(qMax<qint64>(0, s.oldestPendingCreatedAt.secsTo(at))))
            : QString());
    m_split->setText(s.byFormatStatus.isEmpty() && s.pending > 0
            ? tr("%1 ready · %2 retrying · %3 parked")
                  .arg(locale.toString(s.ready), locale.toString(s.retrying), locale.toString(s.parked))
            : QString());
    m_split->setToolTip(tr("Ready: due now. Retrying: backing off after a failed attempt. Parked: waiting behind an "
                           "earlier unsent event of their ordering key."));
    m_chart->addSample(at, s.sent, s.failed);
    m_rate->setText(rateText(m_chart->shownRate(at)));
    m_blockedKeys.clear();
    if (!s.byFormatStatus.isEmpty()) {
        // A foreign outbox: its own statuses, and the rows its relayer left "processing".
        QStringList parts;
        for (const auto &[status, n] : s.byFormatStatus)
            parts << tr("%1 %2").arg(status, locale.toString(n));
        QString line = tr("Statuses: %1").arg(parts.join(QStringLiteral(" · ")));
        if (s.processing > 0 && s.oldestProcessingCreatedAt.isValid())
            line += tr(" — %1 processing, the oldest created %2 ago (stuck if its relayer crashed: Events ▸ "
                       "Release stuck)")
                        .arg(locale.toString(s.processing),
                            ageText(qMax<qint64>(0, s.oldestProcessingCreatedAt.secsTo(at))));
        m_blocked->setText(line.toHtmlEscaped());
    } else if (s.blockedKeys.isEmpty()) {
        m_blocked->setText(tr("Blocked ordering keys: none"));
    } else {
        // Each key a link: its events, with the failed one that holds them back.
        QStringList keys;
        for (const QString &k : s.blockedKeys.mid(0, 10)) {
            keys.append(QStringLiteral("<a href=\"key:%1\">%2</a>")
                            .arg(m_blockedKeys.size())
                            .arg(oneLine(k, 60).toHtmlEscaped()));
            m_blockedKeys.append(k);
        }
        m_blocked->setText(
            tr("Blocked ordering keys (%1): %2%3")
                .arg(locale.toString(s.blockedKeyCount))
                .arg(keys.join(QStringLiteral(", ")), s.blockedKeyCount > 10 ? QStringLiteral(", …") : QString()));
    }
    updateVerdict(at);
}

void HealthPanel::setRelayers(const QList<RelayerInfo> &relayers)
{
    int alive = 0;
    QStringList others;
    m_targetsDown.clear();
    for (const RelayerInfo &r : relayers) {
        if (r.state == RelayerInfo::State::Alive) {
            ++alive;
            if (!r.target.isAvailable())
                m_targetsDown.append(r.target);
        } else if (others.size() < 5) {
            others << tr("%1 %2, holding %3")
                          .arg(oneLine(r.owner, 80), relayerStateName(r.state), QLocale().toString(r.held));
        }
    }
    m_aliveRelayers = alive;
    if (!m_format.isEmpty()) {
        m_relayers->setText(tr("Relayers: the framework's own (a %1 table records none)").arg(m_format));
        m_relayers->setStyleSheet(QString());
        return;
    }
    if (relayers.isEmpty()) {
        m_relayers->setText(tr("Relayers: none running"));
        m_relayers->setStyleSheet(QString());
        updateVerdict(QDateTime::currentDateTimeUtc());
        return;
    }
    QString text = tr("Relayers: %1 alive").arg(alive);
    if (!others.isEmpty())
        text += QStringLiteral(" · ") + others.join(QStringLiteral(" · "));
    m_relayers->setText(text);
    m_relayers->setStyleSheet(others.isEmpty() ? QString() : toneStyle(Tone::Bad));
    updateVerdict(QDateTime::currentDateTimeUtc());
}

void HealthPanel::seedRateHistory(const QList<DeliveryBucket> &history)
{
    m_chart->seed(history);
}

void HealthPanel::setLatestFailure(const OutboxEvent &e, const QDateTime &at)
{
    m_failureId = e.id;
    m_failureAt = at;
    const bool shown = m_relayError.isEmpty(); // else the relay error keeps the line; the verdict follows this
    if (shown)
        m_lastError->setStyleSheet(QString());
    if (e.id.isEmpty() || (m_dismissedAt.isValid() && at.isValid() && at <= m_dismissedAt)) {
        if (shown)
            m_lastError->clear(); // none, or the operator dismissed it and nothing newer failed
        m_failureText.clear();
        updateVerdict(QDateTime::currentDateTimeUtc());
        return;
    }
    m_failureText = oneLine(e.lastError, 200);
    updateVerdict(QDateTime::currentDateTimeUtc());
    if (!shown)
        return;
    m_lastError->setText(
        tr("Latest failed event <a href=\"event\">%1</a> (%2), %3: %4 &nbsp; <a href=\"dismiss\">Dismiss</a>")
            .arg(elideMiddle(e.id, 40).toHtmlEscaped(), oneLine(e.type, 60).toHtmlEscaped(),
                at.isValid() ? QLocale().toString(at.toLocalTime(), QLocale::ShortFormat).toHtmlEscaped() : QString(),
                oneLine(e.lastError, 300).toHtmlEscaped()));
}

void HealthPanel::setLastError(const QString &error, const QDateTime &at)
{
    m_relayError = error;
    m_lastError->setStyleSheet(toneStyle(Tone::Bad));
    m_lastError->setText(error.isEmpty()
            ? QString()
            : tr("Last relay error (%1): %2")
                  .arg(at.toLocalTime().toString(QStringLiteral("HH:mm:ss")), oneLine(error, 300))
                  .toHtmlEscaped());
}

void HealthPanel::updateVerdict(const QDateTime &now)
{
    if (!m_hasStats) {
        m_verdict = Verdict::None;
        m_verdictLabel->clear();
        return;
    }
    const OutboxStats &s = m_stats;
    const QLocale locale;
    QString text;
    QColor c = palette().text().color();
    // How long the oldest ready event has waited since it became due (a retried one: since the retry).
    const QDateTime readySince = s.oldestReadySince.isValid() ? s.oldestReadySince : s.oldestReadyCreatedAt;
    const qint64 readyAge = readySince.isValid() ? qMax<qint64>(0, readySince.secsTo(now)) : 0;
    const bool recentFailure = !m_failureText.isEmpty() && m_failureAt.isValid() && m_failureAt.secsTo(now) < 300;
    const double rate = m_chart->shownRate(now);
    const qint64 processingAge =
        s.oldestProcessingCreatedAt.isValid() ? qMax<qint64>(0, s.oldestProcessingCreatedAt.secsTo(now)) : 0;
    if (!s.byFormatStatus.isEmpty() && s.processing > 0 && processingAge > kStuckProcessingSeconds) {
        // A foreign outbox whose relayer left rows "processing" far longer than a delivery takes: it crashed.
        m_verdict = Verdict::Stalled;
        c = toneColour(Tone::Bad);
        text = tr("Stuck: %1 row(s) 'processing', the oldest created %2 ago — their relayer may have crashed; "
                  "Events ▸ Release stuck gives them back")
                   .arg(locale.toString(s.processing), ageText(processingAge));
    } else if (!s.byFormatStatus.isEmpty()) {
        m_verdict = Verdict::Idle;
        text = tr("Monitoring a %1 table: the framework relays it").arg(m_format);
    } else if (!m_targetsDown.isEmpty()) {
        // The relayers hold the events for a target that does not answer: not the events' fault, and not a
        // relayer to start. Say which target, since when, why, and when it is tried next.
        const TargetState &t = m_targetsDown.first();
        m_verdict = Verdict::TargetUnavailable;
        c = toneColour(Tone::Bad);
        text = tr("Target unavailable: %1 for %2 — %3; %4 event(s) held (attempts not counted), next probe in %5")
                   .arg(oneLine(t.target, 120), ageText(qMax<qint64>(0, t.unavailableSince.secsTo(now))),
                       oneLine(t.why, 160), locale.toString(s.pending),
                       ageText(qMax<qint64>(0, now.secsTo(t.nextProbeAt))));
        if (m_targetsDown.size() > 1)
            text += tr(" (and %1 more)").arg(m_targetsDown.size() - 1);
    } else if (s.ready > 0 && (readyAge > 60 || (s.inFlight == 0 && rate <= 0 && m_aliveRelayers == 0))) {
        m_verdict = Verdict::Stalled;
        c = toneColour(Tone::Bad);
        text = tr("Stalled: %1 event(s) ready, the oldest waiting %2 — %3")
                   .arg(locale.toString(s.ready), ageText(readyAge),
                       m_aliveRelayers == 0
                           ? tr("no relayer is running: start one (Relay ▸ Start here, or outboxctl relay)")
                           : tr("the relayers are not keeping up"));
    } else if (recentFailure && rate <= 0) {
        // Failing: failures, and nothing delivered meanwhile.
        m_verdict = Verdict::Failing;
        c = toneColour(Tone::Warning);
        text = tr("Failing: the latest failure %1 ago: %2")
                   .arg(ageText(qMax<qint64>(0, m_failureAt.secsTo(now))), m_failureText);
    } else if (s.inFlight > 0 || s.ready > 0 || rate > 0) { // a relayer is taking them
        m_verdict = Verdict::Relaying;
        c = toneColour(recentFailure ? Tone::Warning : Tone::Good);
        text = tr("Relaying: %1 in flight, %2 ready, %3/s delivered")
                   .arg(locale.toString(s.inFlight), locale.toString(s.ready), rateText(rate));
        if (recentFailure) // deliveries go on; some events fail (their own fault, or a poison one)
            text += tr(" — the latest failure %1 ago: %2")
                        .arg(ageText(qMax<qint64>(0, m_failureAt.secsTo(now))), m_failureText);
    } else {
        m_verdict = Verdict::Idle;
        text = tr("Idle: nothing is due");
        if (s.retrying > 0)
            text += tr("; %1 backing off until their next attempt").arg(locale.toString(s.retrying));
        if (s.parked > 0)
            text += tr("; %1 parked behind failed or earlier events").arg(locale.toString(s.parked));
    }
    m_verdictLabel->setText(text);
    m_verdictLabel->setStyleSheet(QStringLiteral("color: %1").arg(c.name()));
}

QString HealthPanel::countText(const QString &name) const
{
    auto *l = findChild<QLabel *>(name);
    return l ? l->text() : QString();
}

} // namespace outbox::ui
