// SPDX-License-Identifier: MIT
#include "failuregroupsview.h"

#include "failuregroups.h"
#include "session.h"
#include "hovertext.h"
#include "textutil.h"

#include <QAction>
#include <QCheckBox>
#include <QElapsedTimer>
#include "flowlayout.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QSettings>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace outbox::ui {

namespace {
enum Column { Count, Type, Http, Cause, FirstSeen, LastSeen, ColumnCount };

QString timeText(const QDateTime &t)
{
    return t.isValid() ? QLocale().toString(t.toLocalTime(), QStringLiteral("yyyy-MM-dd HH:mm:ss")) : QString();
}

// A number that sorts as a number.
QTableWidgetItem *numberItem(qint64 n, const QString &text)
{
    auto *item = new QTableWidgetItem(text);
    item->setData(Qt::UserRole, n);
    item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return item;
}
} // namespace

FailureGroupsView::FailureGroupsView(Session *session, QWidget *parent) : QWidget(parent), m_session(session)
{
    setObjectName(QStringLiteral("failureGroupsView"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    // The summary and the buttons flow onto more lines in a narrow dock.
    auto *top = new FlowLayout;
    m_summary = new QLabel(this);
    m_summary->setObjectName(QStringLiteral("failureGroupsSummary"));
    m_summary->setMinimumWidth(60); // cut rather than holding the dock wide, whole on hover
    showCutTextOnHover(m_summary);
    top->addWidget(m_summary);
    auto button = [this, top](const QString &text, const QString &name) {
        auto *b = new QPushButton(text, this);
        b->setObjectName(name);
        top->addWidget(b);
        return b;
    };
    m_show = button(tr("Show events"), QStringLiteral("showGroup"));
    m_retry = button(tr("Retry group…"), QStringLiteral("retryGroup"));
    m_replay = button(tr("Replay group…"), QStringLiteral("replayGroup"));
    m_delete = button(tr("Delete group…"), QStringLiteral("deleteGroup"));
    QPushButton *refreshButton = button(tr("Refresh"), QStringLiteral("refreshGroups"));
    m_byCause = new QCheckBox(tr("By cause alone"), this);
    m_byCause->setObjectName(QStringLiteral("groupByCause"));
    m_byCause->setToolTip(tr("One group per error, whatever the event type and HTTP status"));
    m_byCause->setChecked(QSettings().value(QStringLiteral("failures/byCauseAlone")).toBool());
    top->addWidget(m_byCause);
    layout->addLayout(top);

    m_table = new QTableWidget(0, ColumnCount, this);
    m_table->setObjectName(QStringLiteral("failureGroups"));
    m_table->setHorizontalHeaderLabels(
        {tr("Events"), tr("Type"), tr("HTTP"), tr("Cause (an example)"), tr("First failure"), tr("Last failure")});
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setWordWrap(false);
    m_table->setAlternatingRowColors(true);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setSectionResizeMode(Cause, QHeaderView::Stretch);
    m_table->setContextMenuPolicy(Qt::ActionsContextMenu);
    layout->addWidget(m_table, 1);

    const std::pair<QString, std::function<void()>> menu[] = {
        {tr("Show events"), [this] { showCurrentGroup(); }},
        {tr("Retry group…"), [this] { actOnCurrentGroup(EventAction::Retry); }},
        {tr("Replay group…"), [this] { actOnCurrentGroup(EventAction::Replay); }},
        {tr("Delete group…"), [this] { actOnCurrentGroup(EventAction::Delete); }},
    };
    for (const auto &[text, slot] : menu) {
        auto *a = new QAction(text, m_table);
        connect(a, &QAction::triggered, this, slot);
        m_table->addAction(a);
    }
    connect(m_show, &QPushButton::clicked, this, &FailureGroupsView::showCurrentGroup);
    connect(m_retry, &QPushButton::clicked, this, [this] { actOnCurrentGroup(EventAction::Retry); });
    connect(m_replay, &QPushButton::clicked, this, [this] { actOnCurrentGroup(EventAction::Replay); });
    connect(m_delete, &QPushButton::clicked, this, [this] { actOnCurrentGroup(EventAction::Delete); });
    connect(refreshButton, &QPushButton::clicked, this, &FailureGroupsView::refresh);
    connect(m_table, &QTableWidget::cellDoubleClicked, this, &FailureGroupsView::showCurrentGroup);
    connect(m_table, &QTableWidget::currentCellChanged, this, &FailureGroupsView::updateButtons);
    connect(m_byCause, &QCheckBox::toggled, this, [this](bool on) {
        QSettings().setValue(QStringLiteral("failures/byCauseAlone"), on);
        showGroups(m_counted, m_countedMs);
    });
    clear();
}

QString FailureGroupsView::groupName(const FailureGroup &g)
{
    return tr("%1 · %2 · %3")
        .arg(g.type.isEmpty() ? tr("several types") : g.type,
            g.httpStatus > 0 ? tr("HTTP %1").arg(g.httpStatus) : tr("no HTTP status"),
            oneLine(g.example.isEmpty() ? g.cause : g.example, 120));
}

void FailureGroupsView::clear()
{
    ++m_generation; // an answer for the previous outbox is dropped
    m_inFlight = false;
    m_groups.clear();
    m_counted.clear();
    m_members.clear();
    m_table->setRowCount(0);
    m_summary->setText(tr("No outbox open"));
    updateButtons();
}

void FailureGroupsView::refresh()
{
    if (m_inFlight || !m_session->isOpen())
        return;
    m_inFlight = true;
    const int generation = m_generation;
    struct Answer
    {
        Result<QList<FailureGroup>> groups = QList<FailureGroup>{};
        qint64 ms = 0;
    };
    m_session->call<Answer>(
        this,
        [](Storage &s) {
            QElapsedTimer clock;
            clock.start();
            Answer a;
            a.groups = s.failureGroups({});
            a.ms = clock.elapsed();
            return a;
        },
        [this, generation](const Answer &a) {
            if (generation != m_generation)
                return;
            m_inFlight = false;
            if (!a.groups.isOk()) {
                m_summary->setText(tr("Cannot group the failed events: %1").arg(a.groups.error().message()));
                return;
            }
            showGroups(a.groups.value(), a.ms);
        },
        Session::Lane::Background);
}

void FailureGroupsView::showGroups(const QList<FailureGroup> &counted, qint64 elapsedMs)
{
    // Keep the operator's place: the same group stays current when the counts change.
    QString current;
    if (const FailureGroup *g = currentGroup())
        current = g->type + QChar(0x1f) + QString::number(g->httpStatus) + QChar(0x1f) + g->cause;
    m_counted = counted;
    m_countedMs = elapsedMs;
    const bool byCause = m_byCause->isChecked();
    m_members.clear();
    m_groups = byCause ? groupsByCauseAlone(counted, &m_members) : counted;
    const QList<FailureGroup> &groups = m_groups;
    const QLocale locale;
    m_table->setSortingEnabled(false);
    m_table->setRowCount(int(groups.size()));
    qint64 total = 0;
    int currentRow = groups.isEmpty() ? -1 : 0;
    for (int row = 0; row < groups.size(); ++row) {
        const FailureGroup &g = groups.at(row);
        total += g.count;
        auto *count = numberItem(g.count, locale.toString(g.count));
        count->setData(Qt::UserRole + 1, row); // the group's index, whatever the order shown
        m_table->setItem(row, Count, count);
        auto *type = new QTableWidgetItem(g.type.isEmpty() ? tr("(several)") : oneLine(g.type, 200));
        type->setToolTip(plainTooltip(g.type));
        m_table->setItem(row, Type, type);
        m_table->setItem(
            row, Http, numberItem(g.httpStatus, g.httpStatus > 0 ? QString::number(g.httpStatus) : QString()));
        // A real error of the group, hosts, ports and codes as written; the group is all errors of its form.
        auto *cause = new QTableWidgetItem(oneLine(g.example.isEmpty() ? g.cause : g.example, 300));
        cause->setToolTip(plainTooltip(
            tr("%1\n\nThe group holds every error of this form (numbers and ids as #): %2").arg(g.example, g.cause)));
        m_table->setItem(row, Cause, cause);
        m_table->setItem(row, FirstSeen, new QTableWidgetItem(timeText(g.firstSeen)));
        m_table->setItem(row, LastSeen, new QTableWidgetItem(timeText(g.lastSeen)));
        if (g.type + QChar(0x1f) + QString::number(g.httpStatus) + QChar(0x1f) + g.cause == current)
            currentRow = row;
    }
    for (int c : {Count, Type, Http, FirstSeen, LastSeen})
        m_table->resizeColumnToContents(c);
    if (currentRow >= 0)
        m_table->setCurrentCell(currentRow, Count);
    m_summary->setText(groups.isEmpty()
            ? tr("No failed events")
            : (byCause ? tr("%L1 failed event(s) in %L2 group(s) by cause alone — counted in %L3 ms")
                       : tr("%L1 failed event(s) in %L2 group(s) by type, HTTP status and cause — counted in %L3 ms"))
                  .arg(total)
                  .arg(groups.size())
                  .arg(elapsedMs));
    updateButtons();
    Q_EMIT refreshed(elapsedMs);
}

int FailureGroupsView::currentIndex() const
{
    const int row = m_table->currentRow();
    if (row < 0 || !m_table->item(row, Count))
        return -1;
    const int index = m_table->item(row, Count)->data(Qt::UserRole + 1).toInt();
    return index >= 0 && index < m_groups.size() ? index : -1;
}

const FailureGroup *FailureGroupsView::currentGroup() const
{
    const int index = currentIndex();
    return index >= 0 ? &m_groups.at(index) : nullptr;
}

void FailureGroupsView::setReadOnly(bool readOnly)
{
    m_readOnly = readOnly;
    for (QAction *a : m_table->actions()) {
        if (a != m_table->actions().constFirst()) // Show events stays
            a->setEnabled(!readOnly);
    }
    updateButtons();
}

void FailureGroupsView::updateButtons()
{
    const bool any = currentGroup() != nullptr;
    m_show->setEnabled(any);
    for (QPushButton *b : {m_retry, m_replay, m_delete}) {
        b->setEnabled(any && !m_readOnly);
        b->setToolTip(m_readOnly ? tr("The console is read-only (View ▸ Read-only)") : QString());
    }
}

QList<FailureGroup> FailureGroupsView::partsOfCurrentGroup() const
{
    const int index = currentIndex();
    if (index < 0 || index >= m_members.size())
        return {*currentGroup()};
    QList<FailureGroup> parts;
    for (qsizetype i : m_members.at(index))
        parts.append(m_counted.at(i));
    return parts;
}

void FailureGroupsView::withMembers(const FailureGroup &group, std::function<void(const QList<qint64> &)> done)
{
    m_summary->setText(tr("Finding the events of %1…").arg(groupName(group)));
    const int generation = m_generation;
    // A group by cause alone is the groups of that cause in every type and status: their events together.
    const QList<FailureGroup> parts = partsOfCurrentGroup();
    m_session->call<Result<QList<qint64>>>(
        this,
        [parts](Storage &s) -> Result<QList<qint64>> {
            QList<qint64> all;
            for (const FailureGroup &part : parts) {
                auto some = s.failureGroupSequences(part, {});
                if (!some.isOk())
                    return some.error();
                all += *some;
            }
            std::sort(all.begin(), all.end());
            return all;
        },
        [this, generation, group, done](const Result<QList<qint64>> &members) {
            if (generation != m_generation)
                return;
            if (!members.isOk()) {
                m_summary->setText(tr("Cannot find the group's events: %1").arg(members.error().message()));
                return;
            }
            if (members.value().isEmpty()) {
                m_summary->setText(tr("The events of %1 are no longer failed").arg(groupName(group)));
                refresh();
                return;
            }
            m_summary->setText(tr("%L1 event(s) in %2").arg(members.value().size()).arg(groupName(group)));
            done(members.value());
        },
        Session::Lane::Background); // a big group takes a while: not in the way of row fetches (Quick)
}

void FailureGroupsView::showCurrentGroup()
{
    const FailureGroup *g = currentGroup();
    if (!g)
        return;
    const FailureGroup group = *g;
    withMembers(group, [this, group](const QList<qint64> &members) { Q_EMIT showEventsRequested(group, members); });
}

void FailureGroupsView::actOnCurrentGroup(EventAction action)
{
    const FailureGroup *g = currentGroup();
    if (!g)
        return;
    const FailureGroup group = *g;
    withMembers(
        group, [this, action, group](const QList<qint64> &members) { Q_EMIT actionRequested(action, group, members); });
}

} // namespace outbox::ui
