// SPDX-License-Identifier: MIT
#pragma once

#include "eventactions.h"
#include "storage.h"

#include <QWidget>

class QCheckBox;
class QLabel;
class QPushButton;
class QTableWidget;

namespace outbox::ui {

class Session;

// Failures by cause: the failed events grouped by type, HTTP status and cause (Storage::failureGroups), or
// by cause alone across types and statuses ("By cause alone"), the largest group first, with their first and last failure. Each group can be shown in the event table, or
// retried, replayed or deleted as a whole: the view finds the group's events, then asks the window to act.
class FailureGroupsView : public QWidget
{
    Q_OBJECT
public:
    explicit FailureGroupsView(Session *session, QWidget *parent = nullptr);

    // Counts the groups again (in the background; refreshed() tells when done). Skipped while one runs.
    void refresh();
    void clear(); // another outbox
    // Read-only: Retry, Replay and Delete are off; Show events stays.
    void setReadOnly(bool readOnly);
    const QList<FailureGroup> &groups() const { return m_groups; }
    // The group of the current row (nullptr: none).
    const FailureGroup *currentGroup() const;
    static QString groupName(const FailureGroup &group);

    // Acts on the current group (the buttons, the context menu and tests call these).
    void showCurrentGroup();
    void actOnCurrentGroup(EventAction action);

Q_SIGNALS:
    void refreshed(qint64 elapsedMs);
    void showEventsRequested(const FailureGroup &group, const QList<qint64> &sequences);
    void actionRequested(EventAction action, const FailureGroup &group, const QList<qint64> &sequences);

private:
    // Finds the group's events on the database thread, then calls done with them.
    void withMembers(const FailureGroup &group, std::function<void(const QList<qint64> &)> done);
    void showGroups(const QList<FailureGroup> &groups, qint64 elapsedMs);
    void updateButtons();

    // The index in m_groups of the current row's group (-1: none), whatever the order shown.
    int currentIndex() const;
    // The groups the current row stands for: itself, or by cause alone the groups of its cause.
    QList<FailureGroup> partsOfCurrentGroup() const;

    Session *m_session;
    QList<FailureGroup> m_counted; // as the storage counted them: by type, HTTP status and cause
    qint64 m_countedMs = 0;
    QList<FailureGroup> m_groups; // as shown: m_counted, or merged by cause alone
    QList<QList<qsizetype>> m_members; // by cause alone: the indexes in m_counted of each shown group
    QCheckBox *m_byCause;
    QTableWidget *m_table;
    QLabel *m_summary;
    QPushButton *m_show;
    QPushButton *m_retry;
    QPushButton *m_replay;
    QPushButton *m_delete;
    bool m_inFlight = false;
    bool m_readOnly = false;
    int m_generation = 0;
};

} // namespace outbox::ui
