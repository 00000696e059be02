// SPDX-License-Identifier: MIT
#pragma once

#include "storage.h"

#include <QWidget>

class QLabel;
class QPushButton;
class QTreeWidget;

namespace outbox::ui {

// The relayers seen on the outbox (registered ones and owners of leases), one row each: name, host, process
// id, state (alive, gone, unknown), its target (and whether it is unavailable), how many events it holds,
// when it last renewed their leases and until when, since when it runs. A gone relayer's
// events can be taken over (released for the others at once) instead of waiting for their leases to end.
class RelayersView : public QWidget
{
    Q_OBJECT
public:
    explicit RelayersView(QWidget *parent = nullptr);

    void setRelayers(const QList<RelayerInfo> &relayers);
    // A foreign outbox (its format's name; empty for ours): its framework records no relayers.
    void setFormat(const QString &format);
    void setReadOnly(bool readOnly);
    int count() const { return int(m_relayers.size()); }

Q_SIGNALS:
    void takeOverRequested(const RelayerInfo &relayer);
    // A gone relayer that held events left the register between two readings: someone took it over.
    void relayerTakenOver(const RelayerInfo &relayer);

private:
    void updateButton();

    QList<RelayerInfo> m_relayers; // as the rows
    QTreeWidget *m_list;
    QLabel *m_note;
    QPushButton *m_takeOver;
    bool m_readOnly = false;
};

} // namespace outbox::ui
