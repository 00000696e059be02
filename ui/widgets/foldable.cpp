// SPDX-License-Identifier: MIT
#include "foldable.h"

#include "textutil.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QSettings>
#include <QSizePolicy>
#include <QToolButton>
#include <QVBoxLayout>

namespace outbox::ui {

Foldable::Foldable(const QString &title, const QString &settingsKey, QWidget *content, QWidget *parent)
    : QWidget(parent), m_content(content), m_key(settingsKey)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto *head = new QHBoxLayout;
    m_toggle = new QToolButton(this);
    m_toggle->setText(title);
    m_toggle->setCheckable(true);
    m_toggle->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_toggle->setAutoRaise(true);
    m_summary = new QLabel(this);
    m_summary->setTextFormat(Qt::PlainText);
    m_summary->setForegroundRole(QPalette::PlaceholderText);
    // The summary never widens the panel: it is cut, and whole in its tooltip.
    m_summary->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    head->addWidget(m_toggle);
    head->addWidget(m_summary, 1);
    layout->addLayout(head);
    content->setParent(this);
    layout->addWidget(content, 1);
    connect(m_toggle, &QToolButton::toggled, this, [this](bool open) {
        m_toggle->setArrowType(open ? Qt::DownArrow : Qt::RightArrow);
        m_content->setVisible(open);
        m_summary->setVisible(!open);
        QSettings().setValue(m_key, open);
    });
    const bool open = QSettings().value(m_key, false).toBool();
    m_toggle->setChecked(open);
    m_toggle->setArrowType(open ? Qt::DownArrow : Qt::RightArrow);
    m_content->setVisible(open);
    m_summary->setVisible(!open);
}

bool Foldable::isOpen() const
{
    return m_toggle->isChecked();
}

void Foldable::setOpen(bool open)
{
    m_toggle->setChecked(open);
}

void Foldable::setSummary(const QString &summary)
{
    m_summary->setText(summary);
    m_summary->setToolTip(plainTooltip(summary));
}

} // namespace outbox::ui
