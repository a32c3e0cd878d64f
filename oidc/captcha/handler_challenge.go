package captcha

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// ServeChallenge writes a fresh Challenge as JSON for static/altcha.js.
// Each response is new and single-use, so nothing may cache it.
func (p *PoW) ServeChallenge(c echo.Context) error {
	ch, err := p.NewChallenge()
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, ch)
}
