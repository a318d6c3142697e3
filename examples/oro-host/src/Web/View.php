<?php

declare(strict_types=1);

namespace OroHost\Web;

/** The layout and the escaping every page uses (Twig's autoescape, by hand). */
final class View
{
    public function __construct(private readonly string $csrfToken)
    {
    }

    public static function h(string $s): string
    {
        return htmlspecialchars($s, ENT_QUOTES | ENT_SUBSTITUTE | ENT_HTML5, 'UTF-8');
    }

    public function csrf(): string
    {
        return '<input type="hidden" name="_token" value="' . self::h($this->csrfToken) . '">';
    }

    public static function select(string $name, string $id, array $choices, string $selected, bool $disabled): string
    {
        $opts = '';
        foreach ($choices as $value => $label) {
            $opts .= sprintf('<option value="%s"%s>%s</option>', self::h((string) $value), (string) $value === $selected ? ' selected' : '', self::h($label));
        }
        return sprintf('<select name="%s" id="%s"%s>%s</select>', self::h($name), self::h($id), $disabled ? ' disabled' : '', $opts);
    }

    /** @param list<array{0:string,1:string}> $flash */
    public function page(string $title, string $body, array $flash = [], string $user = ''): string
    {
        $alerts = '';
        foreach ($flash as [$type, $msg]) {
            $alerts .= sprintf('<div class="alert %s" role="alert">%s</div>', self::h($type), self::h($msg));
        }
        $nav = '';
        foreach (['/admin/system' => 'System Configuration', '/admin/organization' => 'Organization Configuration', '/user/config' => 'My Configuration', '/calendar' => 'My Calendar'] as $href => $label) {
            $nav .= sprintf('<a href="%s">%s</a>', self::h($href), self::h($label));
        }
        return '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>' . self::h($title) . ' — Oro (reference host)</title><style>' . self::CSS . '</style></head><body>'
            . '<header><span class="brand">ORO</span><nav>' . $nav . '</nav><span class="user">' . self::h($user) . '</span></header>'
            . '<main><h1>' . self::h($title) . '</h1><div id="flash">' . $alerts . '</div>' . $body . '</main>'
            . '<script>' . self::JS . '</script></body></html>';
    }

    private const CSS = <<<'CSS'
body{margin:0;font:14px/1.4 "Helvetica Neue",Arial,sans-serif;color:#333;background:#f2f3f5}
header{background:#2b3d52;color:#fff;display:flex;align-items:center;gap:1.5em;padding:.6em 1.2em}
header .brand{font-weight:bold;letter-spacing:.1em;color:#f9a825}header nav a{color:#dfe6ee;margin-right:1.2em;text-decoration:none}
header .user{margin-left:auto;opacity:.8}main{max-width:1000px;margin:1em auto;padding:0 1em}h1{font-size:20px;font-weight:normal}
.box{background:#fff;border:1px solid #dde1e6;border-radius:3px;padding:.4em 1.2em 1em;margin-bottom:1em}.box h2{font-size:15px;border-bottom:1px solid #eee;padding-bottom:.4em}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.45em .5em;border-bottom:1px solid #f0f0f0;vertical-align:top}
label.parent{white-space:nowrap}td.effective .source,.hint,.note{color:#777;font-size:12px}.has-error input,.has-error select{border-color:#c62828}
.error-message{color:#c62828;font-size:12px;margin-top:.2em}.alert{padding:.6em 1em;margin:.5em 0;border-radius:3px}
.alert.success{background:#e8f5e9;color:#1b5e20}.alert.error{background:#ffebee;color:#b71c1c}.alert.warning{background:#fff8e1;color:#8d6e00}
.btn{border:1px solid #c4cbd3;background:#fff;padding:.35em .9em;border-radius:3px;cursor:pointer}.btn.primary{background:#0c7ab6;color:#fff;border-color:#0c7ab6}
.btn.danger{color:#b71c1c}.btn.small{padding:.1em .5em;font-size:12px}form.inline{display:inline}
.sync{padding:.1em .5em;border-radius:8px;font-size:12px}.sync.linked{background:#e8f5e9}.sync.pending{background:#fff8e1}.sync.issue{background:#ffebee}
.status-reconnect_required,.status-consent_required{color:#b71c1c}dl{display:grid;grid-template-columns:10em 1fr;gap:.3em}dd{margin:0}
CSS;

    // "Use parent scope" disables the field; Connect opens the sign-in pop-up.
    private const JS = <<<'JS'
document.querySelectorAll('input.use-parent').forEach(function (cb) {
  cb.addEventListener('change', function () {
    var row = cb.closest('tr'); row.querySelectorAll('select, input[name^="value"]').forEach(function (el) { el.disabled = cb.checked; });
  });
});
document.querySelectorAll('button.connect').forEach(function (b) {
  b.addEventListener('click', function () {
    var w = 480, h = 640, left = window.screenX + (window.outerWidth - w) / 2, top = window.screenY + 60;
    var popup = window.open(b.dataset.url, 'msync-connect', 'popup,width=' + w + ',height=' + h + ',left=' + left + ',top=' + top);
    if (!popup) { alert('Allow pop-ups for this site to connect your Microsoft 365 account.'); }
  });
});
JS;
}
