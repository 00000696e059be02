// SPDX-License-Identifier: MIT
#include "outboxpresenter.h"

#include "connectioncontroller.h"
#include "demo.h"
#include "detailpane.h"
#include "eventactions.h"
#include "eventbrowser.h"
#include "eventcommands.h"
#include "eventmodel.h"
#include "failuregroupsview.h"
#include "healthpanel.h"
#include "liverefresh.h"
#include "operationspanel.h"
#include "operatorlog.h"
#include "relayersview.h"
#include "relaypanel.h"
#include "session.h"
#include "testerpanel.h"

#include <QCoreApplication>
#include <QDockWidget>
#include <QLabel>
#include <QTableView>

namespace outbox::ui {

OutboxPresenter::OutboxPresenter(const Parts &parts, QObject *parent) : QObject(parent), m_parts(parts)
{
    connect(m_parts.connections, &ConnectionController::aboutToOpen, this, &OutboxPresenter::aboutToOpen);
    connect(m_parts.connections, &ConnectionController::opened, this, &OutboxPresenter::opened);
    connect(m_parts.live, &LiveRefresh::healthRead, this, &OutboxPresenter::showHealth);
    // After an operator's action or an enqueue from the composer, what shows the outbox follows at once.
    connect(m_parts.actions, &EventActions::finished, this, [this](const QString &summary, const QString &, bool) {
        m_parts.actionResult->setText(summary);
        m_parts.browser->table()->clearSelection();
        m_parts.browser->model()->refresh();
        m_parts.live->readHealth();
        m_parts.failures->refresh();
        m_parts.browser->showCurrentDetail();
    });
    connect(m_parts.commands, &EventCommands::enqueued, this, [this] {
        m_parts.live->refreshNow();
        m_parts.failures->refresh();
    });
}

void OutboxPresenter::aboutToOpen(const ConnectionSpec &spec, bool another)
{
    m_parts.relay->setConnection(spec, false);
    m_parts.browser->resetForOutbox(another);
    if (another) {
        // Nor does another outbox inherit the previous one's relay log, relay error, action result or operations.
        m_parts.relay->clearLog();
        m_parts.actionResult->clear();
        m_parts.operations->clear();
        m_historyClock.invalidate(); // the next health reading reads the new outbox's operators' history
    }
    m_demo = false;
    m_parts.health->clear();
    m_parts.failures->clear();
    m_lastFailedCount = -1;
    Q_EMIT message(tr("Opening %1…").arg(spec.displayUrl()), 0);
}

void OutboxPresenter::opened(const QString &error)
{
    const bool open = error.isEmpty();
    m_parts.relay->setConnection(m_parts.connections->spec(), open, m_parts.commands->relayRefusal());
    m_parts.health->setFormat(open ? m_parts.session->formatName() : QString());
    m_parts.relayers->setFormat(
        open && !m_parts.session->has(Storage::Capability::Relay) ? m_parts.session->formatName() : QString());
    m_parts.browser->detail()->setHistoryNote(!open || m_parts.session->has(Storage::Capability::AttemptHistory)
            ? QString()
            : tr("A %1 table keeps no attempt history: only the retry count and the last error (above).")
                  .arg(m_parts.session->formatName()));
    m_parts.commands->outboxChanged();
    if (!open) {
        Q_EMIT message(tr("Not connected"), 0);
        m_parts.browser->model()->setFilter(EventFilter{}); // empties the table: no outbox
        Q_EMIT outboxOpened(error); // the controller then shows the error, or the server dialog again
        return;
    }
    Q_EMIT message(tr("Opened %1").arg(m_parts.connections->spec().displayUrl()), 4000);
    if (!m_eventOnOpen.isEmpty()) // outbox-console --event ID: found, selected and shown
        m_parts.browser->findEvent(std::exchange(m_eventOnOpen, QString()));
    // The receiver is a development tool: its dock shows for the demo, or while it runs; View brings it back.
    m_parts.testerDock->setVisible(m_demo || !m_parts.tester->receiverUrl().isEmpty());
    if (m_demo && !m_readOnly)
        populateDemoIfEmpty();
    m_parts.browser->applyFilters();
    m_parts.live->readHealth();
    m_parts.browser->loadCompletions(true);
    // The rate chart starts with the hour before, from the newest 200,000 events' times.
    m_parts.session->call<Result<QList<DeliveryBucket>>>(
        this,
        [](Storage &s) {
            return s.deliveryHistory(
                QDateTime::currentDateTimeUtc().addSecs(-qint64(RateChart::kBucketSeconds) * RateChart::kBuckets),
                RateChart::kBucketSeconds, 200000);
        },
        [this](const Result<QList<DeliveryBucket>> &history) {
            if (history.isOk())
                m_parts.health->seedRateHistory(history.value());
        },
        Session::Lane::Background);
    Q_EMIT outboxOpened(QString());
}

void OutboxPresenter::openDemo()
{
    m_parts.connections->open(ConnectionSpec::sqlite(demo::databasePath()), Storage::OpenMode::CreateIfMissing);
    m_demo = true;
    if (m_parts.tester->startReceiver())
        m_parts.relay->setTargetUrl(m_parts.tester->receiverUrl(), true);
    m_parts.relay->setOutboxFacts(0, {}, true); // the demo relays to its local receiver by design: Start asks nothing
}

void OutboxPresenter::populateDemoIfEmpty()
{
    // Sample events in every state, written the way an application would, then given a delivery history.
    m_parts.session->call<Result<int>>(
        this, [](Storage &storage) { return demo::fillIfEmpty(storage); },
        [this](const Result<int> &filled) {
            if (!filled.isOk())
                Q_EMIT message(tr("Could not fill the demo outbox: %1").arg(filled.error().message()), 10000);
            m_parts.browser->model()->reload();
            m_parts.live->readHealth();
            m_parts.failures->refresh(); // the groups may have been counted before the fill
        });
}

void OutboxPresenter::readOperatorHistory()
{
    m_historyClock.start();
    if (!m_parts.session->isOpen())
        return;
    m_parts.session->call<Result<QList<detail::OperatorAction>>>(
        this, [](Storage &s) { return detail::operatorActions(s, 200); },
        [this](const Result<QList<detail::OperatorAction>> &actions) {
            if (actions.isOk())
                m_parts.operations->setHistory(actions.value());
            else
                m_parts.operations->setHistory({}, actions.error().message());
        },
        Session::Lane::Background);
}

void OutboxPresenter::showHealth(const HealthReading &h)
{
    if (!m_historyClock.isValid() || m_historyClock.elapsed() > 10000)
        readOperatorHistory();
    if (!h.stats.isOk()) {
        Q_EMIT message(h.stats.error().message(), 10000);
        return;
    }
    m_parts.health->setStats(h.stats.value(), QDateTime::currentDateTimeUtc());
    m_parts.commands->setProcessing(h.stats.value().processing);
    if (h.relayers.isOk()) {
        m_parts.health->setRelayers(h.relayers.value());
        // Where the other live relayers send (this process's own lanes excepted), for Start's question.
        QStringList targets;
        const QString mine = QStringLiteral(":%1:").arg(QCoreApplication::applicationPid());
        for (const RelayerInfo &r : h.relayers.value()) {
            if (r.state == RelayerInfo::State::Alive && !r.owner.contains(mine) && !r.target.target.isEmpty()
                && !targets.contains(r.target.target))
                targets << r.target.target;
        }
        m_parts.relay->setOutboxFacts(h.stats.value().pending, targets, m_demo);
        if (m_parts.session->has(Storage::Capability::Relay))
            m_parts.relayers->setRelayers(h.relayers.value());
    }
    // The newest failure, at its own time (not the refresh's), for the verdict always; its line gives way to a
    // relay error of this console's relayer while one is shown.
    m_parts.health->setLatestFailure(h.lastFailure, h.lastFailureAt);
    m_parts.browser->updateTabCounts(h.stats.value());
    m_parts.browser->loadCompletions(false); // they follow the outbox, once a minute at most
    // The failure groups follow the failed count (when it changes, they may have).
    // (Every 5 s at most: while many fail, a live refresh would otherwise group them every 1.5 s.)
    if (h.stats.value().failed != m_lastFailedCount
        && (m_lastFailedCount < 0 || !m_groupsClock.isValid() || m_groupsClock.elapsed() > 5000)) {
        m_lastFailedCount = h.stats.value().failed;
        m_groupsClock.start();
        m_parts.failures->refresh();
    }
    Q_EMIT statsRefreshed();
}

} // namespace outbox::ui
