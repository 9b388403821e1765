// 市民门户: "使用当前位置" fills the form's hidden latitude and longitude from the phone's location.
(function () {
  const button = document.getElementById("locate");
  if (!button) { return; }
  button.addEventListener("click", function () {
    const said = document.getElementById("located");
    if (!navigator.geolocation) { said.textContent = "此浏览器无法定位，请填写地址"; return; }
    said.textContent = "正在定位…";
    navigator.geolocation.getCurrentPosition(function (p) {
      document.getElementById("id_latitude").value = p.coords.latitude.toFixed(6);
      document.getElementById("id_longitude").value = p.coords.longitude.toFixed(6);
      said.textContent = "已记录位置（" + p.coords.latitude.toFixed(4) + "，" + p.coords.longitude.toFixed(4) + "）";
    }, function () { said.textContent = "未能定位，请填写地址"; }, { timeout: 10000 });
  });
})();
