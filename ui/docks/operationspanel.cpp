// SPDX-License-Identifier: MIT
#include "operationspanel.h"

#include "hovertext.h"
#include "textutil.h"
#include "tones.h"

#include "flowlayout.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace outbox::ui {

OperationsPanel::OperationsPanel(QWidget *parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("operationsPanel"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    auto *top = new FlowLayout;
    auto *note = new QLabel(tr("What this console changed in the open outbox, newest first"), this);
    note->setMinimumWidth(60); // cut rather than holding the dock wide, whole on hover
    showCutTextOnHover(note);
    top->addWidget(note);
    m_showAffected = new QPushButton(tr("Show affected events"), this);
    m_showAffected->setObjectName(QStringLiteral("showAffected"));
    top->addWidget(m_showAffected);
    layout->addLayout(top);
    m_list = new QTreeWidget(this);
    m_list->setObjectName(QStringLiteral("operations"));
    m_list->setRootIsDecorated(false);
    m_list->setUniformRowHeights(true);
    m_list->setHeaderLabels({tr("When"), tr("Action"), tr("Changed"), tr("Skipped"), tr("On"), tr("Error")});
    m_list->header()->setStretchLastSection(true);
    m_list->setMinimumSize(150, m_list->fontMetrics().height() * 3 + 8); // a small dock still shows a few
    layout->addWidget(m_list, 1);
    m_historyNote = new QLabel(tr("Every operator's actions on this outbox, from the events' history"), this);
    m_historyNote->setObjectName(QStringLiteral("operatorHistoryNote"));
    m_historyNote->setWordWrap(true);
    layout->addWidget(m_historyNote);
    m_history = new QTreeWidget(this);
    m_history->setObjectName(QStringLiteral("operatorHistory"));
    m_history->setRootIsDecorated(false);
    m_history->setUniformRowHeights(true);
    m_history->setHeaderLabels({tr("When"), tr("Who"), tr("Action"), tr("Events")});
    m_history->header()->setStretchLastSection(false);
    m_history->header()->setSectionResizeMode(2, QHeaderView::Stretch);
    m_history->setMinimumSize(150, m_history->fontMetrics().height() * 3 + 8); // a small dock still shows a few
    layout->addWidget(m_history, 1);
    connect(m_showAffected, &QPushButton::clicked, this, &OperationsPanel::showAffectedOfCurrent);
    connect(m_list, &QTreeWidget::itemDoubleClicked, this, &OperationsPanel::showAffectedOfCurrent);
    connect(m_list, &QTreeWidget::currentItemChanged, this, &OperationsPanel::updateButton);
    updateButton();
}

void OperationsPanel::addOperation(const Operation &op)
{
    constexpr int kKept = 500;
    if (m_operations.size() >= kKept) {
        m_operations.removeLast();
        delete m_list->takeTopLevelItem(m_list->topLevelItemCount() - 1);
    }
    m_operations.prepend(op);
    const QLocale locale;
    auto *item = new QTreeWidgetItem({locale.toString(op.at, QStringLiteral("HH:mm:ss")), op.what,
        locale.toString(op.changed), locale.toString(op.skipped), oneLine(op.scope, 300), oneLine(op.error, 300)});
    item->setToolTip(0, locale.toString(op.at, QLocale::LongFormat));
    item->setToolTip(4, plainTooltip(op.scope));
    item->setToolTip(5, plainTooltip(op.error));
    item->setTextAlignment(2, Qt::AlignRight | Qt::AlignVCenter);
    item->setTextAlignment(3, Qt::AlignRight | Qt::AlignVCenter);
    if (!op.error.isEmpty())
        item->setForeground(5, toneColour(Tone::Bad));
    m_list->insertTopLevelItem(0, item);
    for (int c = 0; c < 4; ++c)
        m_list->resizeColumnToContents(c);
    m_list->setCurrentItem(item);
}

void OperationsPanel::setHistory(const QList<detail::OperatorAction> &actions, const QString &note)
{
    m_historyNote->setText(
        note.isEmpty() ? tr("Every operator's actions on this outbox, from the events' history") : note);
    const QLocale locale;
    m_history->clear();
    for (const detail::OperatorAction &a : actions) {
        auto *item = new QTreeWidgetItem({locale.toString(a.at.toLocalTime(), QStringLiteral("yyyy-MM-dd HH:mm:ss")),
            oneLine(a.who, 120), oneLine(a.what, 300), locale.toString(a.events)});
        item->setToolTip(1, plainTooltip(a.who));
        item->setToolTip(2, plainTooltip(a.what));
        item->setTextAlignment(3, Qt::AlignRight | Qt::AlignVCenter);
        m_history->addTopLevelItem(item);
    }
    for (int c : {0, 1, 3})
        m_history->resizeColumnToContents(c);
}

void OperationsPanel::clear()
{
    m_operations.clear();
    m_list->clear();
    m_history->clear();
    updateButton();
}

void OperationsPanel::showAffectedOfCurrent()
{
    const int row = m_list->indexOfTopLevelItem(m_list->currentItem());
    if (row < 0 || row >= m_operations.size() || m_operations.at(row).affected.isEmpty())
        return;
    Q_EMIT showAffectedRequested(m_operations.at(row));
}

void OperationsPanel::updateButton()
{
    const int row = m_list->indexOfTopLevelItem(m_list->currentItem());
    const bool any = row >= 0 && row < m_operations.size() && !m_operations.at(row).affected.isEmpty();
    m_showAffected->setEnabled(any);
    m_showAffected->setToolTip(any || row < 0 ? QString() : tr("A cleanup or a release chose its events by time"));
}

} // namespace outbox::ui
