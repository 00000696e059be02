// SPDX-License-Identifier: MIT
#pragma once

#include <QObject>

#include <functional>

class QLabel;
class QMenu;
class QWidget;

namespace outbox::ui {

class RelayPanel;

// The Relay menu and the status bar's relayer badge: both follow the relay panel's state, so the console's
// relayer can be started, paused and stopped, and seen, whatever dock is shown. What cannot be done now is
// off, and Start reads Resume while paused; an outbox not relayed from here keeps Start and Relay once,
// which say why.
class RelayMenu : public QObject
{
    Q_OBJECT
public:
    // isOpen: whether an outbox is open; refusal: why it is not relayed from here (empty: it is).
    RelayMenu(RelayPanel *panel, std::function<bool()> isOpen, std::function<QString()> refusal, QWidget *window);

    void buildMenu(QMenu *relay);
    QLabel *badge() const { return m_badge; }
    void update();

private:
    RelayPanel *m_panel;
    std::function<bool()> m_isOpen;
    std::function<QString()> m_refusal;
    QWidget *m_window;
    QLabel *m_badge;
};

} // namespace outbox::ui
