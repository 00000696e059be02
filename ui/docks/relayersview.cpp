// SPDX-License-Identifier: MIT
#include "relayersview.h"

#include "textutil.h"
#include "tones.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace outbox::ui {

RelayersView::RelayersView(QWidget *parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("relayersView"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    auto *top = new QHBoxLayout;
    m_note = new QLabel(tr("The relayers on this outbox, from its registry and its leases"), this);
    m_note->setObjectName(QStringLiteral("relayersNote"));
    top->addWidget(m_note, 1);
    m_takeOver = new QPushButton(tr("Take over its events"), this);
    m_takeOver->setObjectName(QStringLiteral("takeOver"));
    m_takeOver->setToolTip(tr("A gone relayer's events, due again now rather than when its leases end"));
    top->addWidget(m_takeOver);
    layout->addLayout(top);
    m_list = new QTreeWidget(this);
    m_list->setObjectName(QStringLiteral("relayers"));
    m_list->setRootIsDecorated(false);
    m_list->setUniformRowHeights(true);
    m_list->setHeaderLabels(
        {tr("Relayer"), tr("Host"), tr("PID"), tr("State"), tr("Since"), tr("Holds"), tr("Leases until")});
    m_list->header()->setStretchLastSection(true);
    layout->addWidget(m_list, 1);
    connect(m_list, &QTreeWidget::currentItemChanged, this, &RelayersView::updateButton);
    connect(m_takeOver, &QPushButton::clicked, this, [this] {
        const int row = m_list->indexOfTopLevelItem(m_list->currentItem());
        if (row >= 0 && row < m_relayers.size())
            Q_EMIT takeOverRequested(m_relayers.at(row));
    });
    updateButton();
}

void RelayersView::setRelayers(const QList<RelayerInfo> &relayers)
{
    // The selection follows its relayer across refreshes.
    const int current = m_list->indexOfTopLevelItem(m_list->currentItem());
    const QString selected = current >= 0 && current < m_relayers.size() ? m_relayers.at(current).owner : QString();
    m_relayers = relayers;
    m_list->clear();
    const QLocale locale;
    auto time = [&locale](const QDateTime &t) {
        return t.isValid() ? locale.toString(t.toLocalTime(), QStringLiteral("yyyy-MM-dd HH:mm:ss")) : QString();
    };
    for (const RelayerInfo &r : relayers) {
        auto *item = new QTreeWidgetItem(
            {oneLine(r.owner, 120), oneLine(r.host, 80), r.pid > 0 ? QString::number(r.pid) : QString(),
                relayerStateName(r.state), r.registered ? time(r.startedAt) : tr("(not registered)"),
                locale.toString(r.held), time(r.leaseExpiresAt)});
        item->setToolTip(0, plainTooltip(r.owner));
        item->setTextAlignment(2, Qt::AlignRight | Qt::AlignVCenter);
        item->setTextAlignment(5, Qt::AlignRight | Qt::AlignVCenter);
        if (r.state == RelayerInfo::State::Gone)
            item->setForeground(3, toneColour(Tone::Bad));
        m_list->addTopLevelItem(item);
        if (r.owner == selected)
            m_list->setCurrentItem(item);
    }
    for (int c = 1; c < 6; ++c)
        m_list->resizeColumnToContents(c);
    updateButton();
}

void RelayersView::setFormat(const QString &format)
{
    m_note->setText(format.isEmpty() ? tr("The relayers on this outbox, from its registry and its leases")
                                     : tr("A %1 table records no relayers: its framework relays it").arg(format));
    setRelayers({});
}

void RelayersView::setReadOnly(bool readOnly)
{
    m_readOnly = readOnly;
    updateButton();
}

void RelayersView::updateButton()
{
    const int row = m_list->indexOfTopLevelItem(m_list->currentItem());
    m_takeOver->setEnabled(!m_readOnly && row >= 0 && row < m_relayers.size()
        && m_relayers.at(row).state == RelayerInfo::State::Gone && m_relayers.at(row).held > 0);
}

} // namespace outbox::ui
