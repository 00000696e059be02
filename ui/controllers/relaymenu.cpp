// SPDX-License-Identifier: MIT
#include "relaymenu.h"

#include "menuaction.h"

#include "relaypanel.h"
#include "tones.h"

#include <QAction>
#include <QLabel>
#include <QMenu>
#include <QPushButton>

namespace outbox::ui {

RelayMenu::RelayMenu(RelayPanel *panel, std::function<bool()> isOpen, std::function<QString()> refusal, QWidget *window)
    : QObject(window),
      m_panel(panel),
      m_isOpen(std::move(isOpen)),
      m_refusal(std::move(refusal)),
      m_window(window),
      m_badge(new QLabel(window))
{
    m_badge->setObjectName(QStringLiteral("relayBadge"));
}

void RelayMenu::buildMenu(QMenu *relay)
{
    auto add = [this, relay](const QString &text, const QString &name, const QKeySequence &key, auto slot) {
        return addMenuAction(relay, text, name, key, m_panel, slot);
    };
    add(tr("&Start"), QStringLiteral("relayStart"), QKeySequence(tr("Ctrl+Shift+S")), [this] { m_panel->start(); });
    add(tr("&Pause"), QStringLiteral("relayPause"), QKeySequence(), [this] { m_panel->pause(); });
    add(tr("S&top"), QStringLiteral("relayStop"), QKeySequence(), [this] { m_panel->stop(); });
    add(tr("Relay &once"), QStringLiteral("relayOnce"), QKeySequence(tr("Ctrl+Shift+1")),
        [this] { m_panel->relayOnce(); });
    connect(m_panel, &RelayPanel::controlsChanged, this, &RelayMenu::update);
    update();
}

void RelayMenu::update()
{
    const std::pair<const char *, QPushButton *> mirrors[] = {{"relayStart", m_panel->startButton()},
        {"relayPause", m_panel->pauseButton()}, {"relayStop", m_panel->stopButton()},
        {"relayOnce", m_panel->onceButton()}};
    const QString refusal = m_refusal();
    const bool explains = m_isOpen() && !refusal.isEmpty();
    for (const auto &[name, button] : mirrors) {
        if (auto *a = m_window->findChild<QAction *>(QLatin1String(name)))
            a->setEnabled(button->isEnabled()
                || (explains && (button == m_panel->startButton() || button == m_panel->onceButton())));
    }
    if (auto *a = m_window->findChild<QAction *>(QStringLiteral("relayStart")))
        a->setText(m_panel->state() == RelayPanel::State::Paused ? tr("&Resume") : tr("&Start"));
    QString text;
    QString style;
    switch (m_panel->state()) {
    case RelayPanel::State::Running:
        text = tr("● relaying");
        style = toneStyle(Tone::Good, true);
        break;
    case RelayPanel::State::Paused:
        text = tr("❚❚ relayer paused");
        style = toneStyle(Tone::Warning, true);
        break;
    case RelayPanel::State::Stopping:
        text = tr("relayer stopping…");
        break;
    case RelayPanel::State::Stopped:
        text = !m_isOpen() ? QString() : !refusal.isEmpty() ? tr("not relayed from here") : tr("relayer stopped");
        break;
    }
    m_badge->setText(text);
    m_badge->setStyleSheet(style);
    m_badge->setToolTip(refusal);
}

} // namespace outbox::ui
