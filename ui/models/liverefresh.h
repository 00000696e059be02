// SPDX-License-Identifier: MIT
#pragma once

#include "storage.h"

#include <QObject>
#include <QTimer>

#include <functional>

class QLabel;
class QWidget;

namespace outbox::ui {

class EventBrowser;
class Session;

// What one health reading found: the counts, the relayers, and the newest failed event with the time of its
// last attempt.
struct HealthReading
{
    Result<OutboxStats> stats = OutboxStats{};
    Result<QList<RelayerInfo>> relayers = QList<RelayerInfo>{};
    OutboxEvent lastFailure; // no id: none
    QDateTime lastFailureAt; // its last attempt, else its creation
};

// The console's live refresh. Every 1.5 s (less often when the table takes long to scan) it reads the outbox's
// health on the background lane and hands it out (healthRead), and swaps fresh rows into the table unless
// something holds them: the window hidden, a dialog open, rows selected, a search or a load running, or
// what the window's hold check says. Paused by the operator (Space), it still reads the health. Its label
// says which.
class LiveRefresh : public QObject
{
    Q_OBJECT
public:
    LiveRefresh(Session *session, EventBrowser *browser, QWidget *window);

    QLabel *label() const { return m_label; }
    void setPaused(bool paused);
    bool isPaused() const { return m_paused; }
    // More reasons to hold the rows (empty: none).
    void setHoldCheck(std::function<QString()> check) { m_hold = std::move(check); }
    // The health now (one reading in flight at most), and the rows too unless a search shows them.
    void readHealth();
    void refreshNow();
    void stop() { m_timer.stop(); }

Q_SIGNALS:
    void healthRead(const outbox::ui::HealthReading &reading);

private:
    void tick();

    Session *m_session;
    EventBrowser *m_browser;
    QWidget *m_window;
    QLabel *m_label;
    QTimer m_timer;
    bool m_paused = false;
    bool m_inFlight = false;
    std::function<QString()> m_hold;
};

} // namespace outbox::ui
