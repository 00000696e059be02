// SPDX-License-Identifier: MIT
#pragma once

#include "eventactions.h"

#include <QWidget>

class QPushButton;
class QTreeWidget;

namespace outbox::ui {

// The operations list: every action this console took on the open outbox, newest first: what, exactly on
// what (the filter values or the group), when, how many events it changed and skipped, and its error. The
// events an action was asked to change can be shown in the table again.
class OperationsPanel : public QWidget
{
    Q_OBJECT
public:
    explicit OperationsPanel(QWidget *parent = nullptr);

    void addOperation(const Operation &operation);
    void clear();
    int count() const { return int(m_operations.size()); }
    void showAffectedOfCurrent();

Q_SIGNALS:
    void showAffectedRequested(const Operation &operation);

private:
    void updateButton();

    QList<Operation> m_operations; // newest first, as the rows
    QTreeWidget *m_list;
    QPushButton *m_showAffected;
};

} // namespace outbox::ui
