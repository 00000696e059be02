// SPDX-License-Identifier: MIT
#include "relayersview.h"

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

#include <algorithm>

namespace outbox::ui {

RelayersView::RelayersView(QWidget *parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("relayersView"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    auto *top = new FlowLayout;
    m_note = new QLabel(tr("The relayers on this outbox, from its registry and its leases"), this);
    m_note->setObjectName(QStringLiteral("relayersNote"));
    m_note->setMinimumWidth(60); // cut rather than holding the dock wide, whole on hover
    showCutTextOnHover(m_note);
    top->addWidget(m_note);
    m_takeOver = new QPushButton(tr("Take over its events"), this);
    m_takeOver->setObjectName(QStringLiteral("takeOver"));
    m_takeOver->setToolTip(tr("A gone relayer's events, due again now rather than when its leases end"));
    top->addWidget(m_takeOver);
    layout->addLayout(top);
    m_list = new QTreeWidget(this);
    m_list->setObjectName(QStringLiteral("relayers"));
    m_list->setRootIsDecorated(false);
    m_list->setUniformRowHeights(true);
    m_list->setHeaderLabels({tr("Relayer"), tr("Host"), tr("PID"), tr("State"), tr("Target"), tr("Holds"),
        tr("Last renewal"), tr("Leases until"), tr("Since")});
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
    // A gone relayer that held events and left the register since the last look was taken over (by a relayer,
    // or an operator elsewhere): said once, where the console logs.
    for (const RelayerInfo &before : std::as_const(m_relayers)) {
        if (before.state != RelayerInfo::State::Gone || before.held <= 0 || !before.registered)
            continue;
        const bool still = std::any_of(
            relayers.begin(), relayers.end(), [&](const RelayerInfo &r) { return r.owner == before.owner; });
        if (!still)
            Q_EMIT relayerTakenOver(before);
    }
    m_relayers = relayers;
    m_list->clear();
    const QLocale locale;
    auto time = [&locale](const QDateTime &t) {
        return t.isValid() ? locale.toString(t.toLocalTime(), QStringLiteral("yyyy-MM-dd HH:mm:ss")) : QString();
    };
    const QDateTime now = QDateTime::currentDateTimeUtc();
    for (const RelayerInfo &r : relayers) {
        // Its target, and while it is unavailable since when and why (its circuit breaker).
        const QString target = r.target.target.isEmpty() ? QString()
            : r.target.isAvailable()                     ? r.target.target
                                     : tr("%1 — %2").arg(r.target.target, targetStateText(r.target, now));
        auto *item = new QTreeWidgetItem(
            {oneLine(r.owner, 120), oneLine(r.host, 80), r.pid > 0 ? QString::number(r.pid) : QString(),
                relayerStateName(r.state), oneLine(target, 200), locale.toString(r.held), time(r.lastRenewal),
                time(r.leaseExpiresAt), r.registered ? time(r.startedAt) : tr("(not registered)")});
        item->setToolTip(0, plainTooltip(r.owner));
        item->setToolTip(4, plainTooltip(target));
        item->setTextAlignment(2, Qt::AlignRight | Qt::AlignVCenter);
        item->setTextAlignment(5, Qt::AlignRight | Qt::AlignVCenter);
        if (r.state == RelayerInfo::State::Gone)
            item->setForeground(3, toneColour(Tone::Bad));
        if (!r.target.isAvailable())
            item->setForeground(4, toneColour(Tone::Bad));
        m_list->addTopLevelItem(item);
        if (r.owner == selected)
            m_list->setCurrentItem(item);
    }
    for (int c = 1; c < 9; ++c)
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
