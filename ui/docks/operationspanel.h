// SPDX-License-Identifier: MIT
#pragma once

#include "eventactions.h"
#include "operatorlog.h"

#include <QWidget>

class QLabel;
class QPushButton;
class QTreeWidget;

namespace outbox::ui {

// The operations list: every action this console took on the open outbox, newest first: what, exactly on
// what (the filter values or the group), when, how many events it changed and skipped, and its error. The
// events an action was asked to change can be shown in the table again. Below it, what every operator did
// on this outbox (any console, outboxctl), read back from the events' history.
class OperationsPanel : public QWidget
{
    Q_OBJECT
public:
    explicit OperationsPanel(QWidget *parent = nullptr);

    void addOperation(const Operation &operation);
    // Every operator's actions, newest first (empty with a note: a format that keeps no such history).
    void setHistory(const QList<detail::OperatorAction> &actions, const QString &note = {});
    QTreeWidget *historyList() const { return m_history; }
    void clear();
    int count() const { return int(m_operations.size()); }
    void showAffectedOfCurrent();

Q_SIGNALS:
    void showAffectedRequested(const Operation &operation);

private:
    void updateButton();

    QList<Operation> m_operations; // newest first, as the rows
    QTreeWidget *m_list;
    QTreeWidget *m_history;
    QLabel *m_historyNote;
    QPushButton *m_showAffected;
};

} // namespace outbox::ui
