// SPDX-License-Identifier: MIT
#include "liverefresh.h"

#include "eventbrowser.h"
#include "session.h"

#include <QApplication>
#include <QLabel>
#include <QWidget>

namespace outbox::ui {

namespace {
constexpr int kIntervalMs = 1500;
} // namespace

LiveRefresh::LiveRefresh(Session *session, EventBrowser *browser, QWidget *window)
    : QObject(window), m_session(session), m_browser(browser), m_window(window), m_label(new QLabel(window))
{
    m_label->setObjectName(QStringLiteral("liveState"));
    m_timer.setInterval(kIntervalMs);
    connect(&m_timer, &QTimer::timeout, this, &LiveRefresh::tick);
    m_timer.start();
}

void LiveRefresh::setPaused(bool paused)
{
    m_paused = paused;
    m_label->setText(paused ? tr("Live refresh paused (Space)") : tr("Live"));
}

void LiveRefresh::refreshNow()
{
    if (!m_session->isOpen())
        return;
    readHealth();
    m_browser->refreshRows();
}

void LiveRefresh::readHealth()
{
    if (!m_session->isOpen() || m_inFlight)
        return;
    m_inFlight = true;
    m_session->call<HealthReading>(
        this,
        [](Storage &s) {
            HealthReading h;
            h.stats = s.stats();
            h.relayers = s.relayers(true);
            // The newest failure by when it happened (a retried 500 included), not the newest failed row.
            if (auto last = s.latestFailure(); last.isOk()) {
                h.lastFailure = last->event;
                h.lastFailureAt = last->at;
            }
            return h;
        },
        [this](const HealthReading &h) {
            m_inFlight = false;
            Q_EMIT healthRead(h);
        },
        Session::Lane::Background);
}

void LiveRefresh::tick()
{
    if (!m_session->isOpen())
        return;
    if (!m_window->isVisible() || m_window->isMinimized()) {
        m_label->setText(tr("Live refresh paused while the window is hidden"));
        return;
    }
    readHealth();
    if (m_paused) {
        m_label->setText(tr("Live refresh paused (Space)"));
        return;
    }
    // Never move rows under the operator: not while a dialog is open, rows are selected, or a load or
    // search is running.
    QString held = QApplication::activeModalWidget() ? tr("held while a dialog is open") : m_browser->refreshHeldBy();
    if (held.isEmpty() && m_hold)
        held = m_hold();
    m_label->setText(held.isEmpty() ? tr("Live") : tr("Live refresh %1").arg(held));
    if (held.isEmpty()) {
        // Big tables take longer to scan: refresh less often rather than keep the database thread busy.
        m_timer.setInterval(int(qBound<qint64>(qint64(kIntervalMs), m_browser->lastScanMs() * 5, qint64(30000))));
        m_browser->refreshRows();
    }
}

} // namespace outbox::ui
