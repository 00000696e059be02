// SPDX-License-Identifier: MIT
#include "healthpanel.h"

#include "textutil.h"

#include <QGridLayout>
#include <QLabel>
#include <QPainter>

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
    setMinimumSize(160, 40);
    setToolTip(tr("Events delivered per second over the last 5 minutes"));
}

void RateChart::clear()
{
    m_lastAt = QDateTime();
    m_lastSent = -1;
    m_rates.clear();
    update();
}

void RateChart::addSample(const QDateTime &at, qint64 sentTotal)
{
    if (m_lastSent >= 0 && m_lastAt.isValid()) {
        const qint64 ms = m_lastAt.msecsTo(at);
        if (ms < 1000)
            return; // too short a time for a rate: measure against the earlier sample
        // Cleanup lowers the total: count that as no deliveries.
        m_rates.append({at, qMax<qint64>(0, sentTotal - m_lastSent) * 1000.0 / double(ms)});
    }
    m_lastAt = at;
    m_lastSent = sentTotal;
    while (!m_rates.isEmpty() && m_rates.first().first.secsTo(at) > 300)
        m_rates.removeFirst();
    update();
}

void RateChart::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    const QRect r = rect().adjusted(0, 0, -1, -1);
    p.fillRect(r, palette().base());
    p.setPen(palette().mid().color());
    p.drawRect(r);
    if (m_rates.isEmpty())
        return;
    double top = 1.0;
    for (const auto &s : m_rates)
        top = qMax(top, s.second);
    const QDateTime end = m_rates.last().first;
    const double width = r.width() - 2;
    p.setPen(Qt::NoPen);
    p.setBrush(QColor(0x35, 0x84, 0xe4));
    auto x = [&](const QDateTime &t) {
        return 1 + width * (1.0 - double(qMin<qint64>(300000, t.msecsTo(end))) / 300000.0);
    };
    QDateTime previous = m_rates.first().first.addSecs(-2);
    for (const auto &s : m_rates) {
        const double x0 = x(previous);
        const double h = (r.height() - 2) * s.second / top;
        p.drawRect(QRectF(x0, r.bottom() - h, qMax(1.0, x(s.first) - x0), h));
        previous = s.first;
    }
    p.setPen(palette().text().color());
    p.drawText(r.adjusted(4, 2, -4, -2), Qt::AlignTop | Qt::AlignRight, tr("max %1/s").arg(top, 0, 'f', 0));
}

HealthPanel::HealthPanel(QWidget *parent) : QWidget(parent)
{
    auto *grid = new QGridLayout(this);
    grid->setContentsMargins(4, 4, 4, 4);
    auto box = [this, grid](const QString &caption, int column, const QString &name) {
        auto *title = new QLabel(caption, this);
        title->setStyleSheet(QStringLiteral("color: palette(mid)"));
        auto *value = new QLabel(QStringLiteral("–"), this);
        value->setObjectName(name);
        value->setTextFormat(Qt::PlainText);
        QFont f = value->font();
        f.setPointSizeF(f.pointSizeF() * 1.4);
        f.setBold(true);
        value->setFont(f);
        grid->addWidget(title, 0, column);
        grid->addWidget(value, 1, column);
        return value;
    };
    m_pending = box(tr("Pending"), 0, QStringLiteral("pending"));
    m_inFlight = box(tr("In flight"), 1, QStringLiteral("inflight"));
    m_failed = box(tr("Failed"), 2, QStringLiteral("failed"));
    m_sent = box(tr("Sent"), 3, QStringLiteral("sent"));
    m_oldest = box(tr("Oldest pending"), 4, QStringLiteral("oldest"));
    m_rate = box(tr("Delivered/s"), 5, QStringLiteral("rate"));
    m_chart = new RateChart(this);
    grid->addWidget(m_chart, 0, 6, 2, 1);
    m_blocked = new QLabel(this);
    m_blocked->setTextFormat(Qt::PlainText);
    m_blocked->setObjectName(QStringLiteral("blocked"));
    m_lastError = new QLabel(this);
    m_lastError->setTextFormat(Qt::PlainText);
    m_lastError->setObjectName(QStringLiteral("lastError"));
    m_lastError->setStyleSheet(QStringLiteral("color: #c01c28"));
    m_relayers = new QLabel(this);
    m_relayers->setTextFormat(Qt::PlainText);
    m_relayers->setObjectName(QStringLiteral("relayers"));
    grid->addWidget(m_blocked, 2, 0, 1, 7);
    grid->addWidget(m_relayers, 3, 0, 1, 7);
    grid->addWidget(m_lastError, 4, 0, 1, 7);
    grid->setColumnStretch(6, 1);
    clear();
}

void HealthPanel::clear()
{
    for (QLabel *l : {m_pending, m_inFlight, m_failed, m_sent, m_oldest, m_rate})
        l->setText(QStringLiteral("–"));
    m_blocked->setText(tr("Blocked ordering keys: none"));
    m_relayers->setText(tr("Relayers: none running"));
    m_lastError->clear();
    m_chart->clear();
}

void HealthPanel::setStats(const OutboxStats &s, const QDateTime &at)
{
    const QLocale locale;
    m_pending->setText(locale.toString(s.pending - s.inFlight));
    m_inFlight->setText(locale.toString(s.inFlight));
    m_failed->setText(locale.toString(s.failed));
    m_failed->setStyleSheet(s.failed > 0 ? QStringLiteral("color: #c01c28") : QString());
    m_sent->setText(locale.toString(s.sent));
    m_oldest->setText(s.oldestPendingCreatedAt.isValid() ? ageText(qMax<qint64>(0, s.oldestPendingCreatedAt.secsTo(at)))
                                                         : tr("none"));
    m_chart->addSample(at, s.sent);
    m_rate->setText(QString::number(m_chart->latestRate(), 'f', 0));
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
        m_blocked->setText(line);
    } else if (s.blockedKeys.isEmpty()) {
        m_blocked->setText(tr("Blocked ordering keys: none"));
    } else {
        QStringList keys;
        for (const QString &k : s.blockedKeys.mid(0, 10))
            keys.append(oneLine(k, 60));
        m_blocked->setText(
            tr("Blocked ordering keys (%1): %2%3")
                .arg(QLocale().toString(s.blockedKeyCount))
                .arg(keys.join(QStringLiteral(", ")), s.blockedKeyCount > 10 ? QStringLiteral(", …") : QString()));
    }
}

void HealthPanel::setRelayers(const QList<RelayerInfo> &relayers)
{
    int alive = 0;
    QStringList others;
    for (const RelayerInfo &r : relayers) {
        if (r.state == RelayerInfo::State::Alive) {
            ++alive;
        } else if (others.size() < 5) {
            others << tr("%1 %2, holding %3")
                          .arg(oneLine(r.owner, 80), relayerStateName(r.state), QLocale().toString(r.held));
        }
    }
    if (!m_format.isEmpty()) {
        m_relayers->setText(tr("Relayers: the framework's own (a %1 table records none)").arg(m_format));
        m_relayers->setStyleSheet(QString());
        return;
    }
    if (relayers.isEmpty()) {
        m_relayers->setText(tr("Relayers: none running"));
        m_relayers->setStyleSheet(QString());
        return;
    }
    QString text = tr("Relayers: %1 alive").arg(alive);
    if (!others.isEmpty())
        text += QStringLiteral(" · ") + others.join(QStringLiteral(" · "));
    m_relayers->setText(text);
    m_relayers->setStyleSheet(others.isEmpty() ? QString() : QStringLiteral("color: #c01c28"));
}

void HealthPanel::setLatestFailure(const OutboxEvent &e, const QDateTime &at)
{
    m_lastError->setStyleSheet(QString());
    m_lastError->setText(e.id.isEmpty()
            ? QString()
            : tr("Latest failed event %1 (%2), %3: %4")
                  .arg(elideMiddle(e.id, 40), oneLine(e.type, 60),
                      at.isValid() ? QLocale().toString(at.toLocalTime(), QLocale::ShortFormat) : QString(),
                      oneLine(e.lastError, 300)));
}

void HealthPanel::setLastError(const QString &error, const QDateTime &at)
{
    m_lastError->setStyleSheet(QStringLiteral("color: #c01c28"));
    m_lastError->setText(error.isEmpty()
            ? QString()
            : tr("Last relay error (%1): %2")
                  .arg(at.toLocalTime().toString(QStringLiteral("HH:mm:ss")), oneLine(error, 300)));
}

QString HealthPanel::countText(const QString &name) const
{
    auto *l = findChild<QLabel *>(name);
    return l ? l->text() : QString();
}

} // namespace outbox::ui
